/**
 * The only errors the store raises: a row that is not there, a unique key already taken, and
 * the database out of reach (PostgreSQL restarting: 503 unavailable, the request may be tried
 * again). They are AppErrors with the protocol's generic codes (404 not_found, 409 conflict), so one a
 * feature does not map still answers sensibly; features that owe the client a precise code
 * catch them by kind and throw their own.
 */
import { AppError } from '../errors.js';

export type StoreErrorKind = 'not_found' | 'unique' | 'unavailable';

const STATUS = { not_found: [404, 'not_found'], unique: [409, 'conflict'], unavailable: [503, 'unavailable'] } as const;

export class StoreError extends AppError {
  constructor(
    readonly kind: StoreErrorKind,
    /** What was looked for or taken, for the message: "user", "the group sales". */
    readonly what: string,
  ) {
    super(STATUS[kind][0], STATUS[kind][1], kind === 'not_found' ? `${what} not found` : kind === 'unique' ? `${what} exists` : `${what}: try again shortly`, kind === 'unavailable' ? { 'Retry-After': '1' } : {});
  }
}

export const isStoreError = (error: unknown, kind: StoreErrorKind): error is StoreError => error instanceof StoreError && error.kind === kind;

/** Runs an insert, turning SQLite's UNIQUE violation into a StoreError. */
export function unique<T>(what: string, insert: () => T): T {
  try {
    return insert();
  } catch (error) {
    if ((error as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') throw new StoreError('unique', what);
    throw error;
  }
}
