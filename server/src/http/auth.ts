/** Bearer-token authentication: the one way in for users and admins. */
import type { IncomingMessage } from 'node:http';
import type { Context } from 'koa';
import { hashToken, type Sessions } from '../auth/sessions.js';
import { AppError } from '../errors.js';
import type { Access } from './route.js';

/** The token of an `Authorization: Bearer <token>` header, if it is one. */
export function bearerToken(header: string | undefined): string | undefined {
  return header ? /^Bearer ([A-Za-z0-9_-]{20,100})$/.exec(header)?.[1] : undefined;
}

/**
 * Per connection, its last Authorization header and that token's hash: a panel's keep-alive
 * connections send the same header with every poll and every message, and a SHA-256 per
 * request showed in profiles. Gone with the connection.
 */
const hashedOnConnection = new WeakMap<object, { header: string; hash: Buffer }>();

/** The SHA-256 of the request's bearer token (what sessions are found by), if it carries one. */
export function bearerTokenHash(req: IncomingMessage): Buffer | undefined {
  const header = req.headers.authorization;
  if (!header) return undefined;
  const known = hashedOnConnection.get(req.socket);
  if (known?.header === header) return known.hash;
  const token = bearerToken(header);
  if (!token) return undefined;
  const hash = hashToken(token);
  hashedOnConnection.set(req.socket, { header, hash });
  return hash;
}

/**
 * `guests`: the route accepts a meeting guest's token too (declared `guests: true`). This is the
 * one place a guest token is told apart: on every other route it is refused with 403.
 */
export function authenticator(sessions: Sessions) {
  return async function authenticate(ctx: Context, access: Access, guests = false) {
    const tokenHash = bearerTokenHash(ctx.req);
    const session = tokenHash ? ((await sessions.verify(tokenHash)) ?? (await sessions.verifyGuest(tokenHash))) : undefined;
    if (!session) {
      throw new AppError(401, 'unauthorized', 'log in first: send Authorization: Bearer <token>', { 'WWW-Authenticate': 'Bearer' });
    }
    if (session.guest && (!guests || access !== 'user')) throw new AppError(403, 'forbidden', 'a meeting guest may only use its meeting');
    if (access === 'admin' && !session.user.isAdmin) throw new AppError(403, 'forbidden', 'this needs an administrator');
    ctx.state.session = session;
  };
}
