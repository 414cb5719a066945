/** Vitest's global setup: with PORTICO_TEST_BACKEND=postgres, one PostgreSQL cluster for the run (see backend.ts). */
import { startPostgres } from './postgres.js';

export default async function setup() {
  if (process.env.PORTICO_TEST_BACKEND !== 'postgres') return undefined;
  const db = await startPostgres();
  process.env.PORTICO_TEST_PG_URL = db.url;
  return async () => {
    await db.destroy();
  };
}
