/**
 * Which store serves: PostgreSQL when a database URL is given (PORTICO_DATABASE_URL, several
 * nodes), else the embedded SQLite file in the data directory.
 */
import { PgStore } from './pg-store.js';
import { SqliteStore } from './sqlite.js';
import type { Store } from './store.js';

export async function openStore(options: { file: string; databaseUrl?: string }): Promise<Store> {
  // PostgreSQL: migrated first, under the advisory lock (one migration across nodes starting together).
  if (options.databaseUrl) return PgStore.open(options.databaseUrl);
  return new SqliteStore(options.file);
}
