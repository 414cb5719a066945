/**
 * Which store the test servers run on: SQLite in their data directory (the default), or
 * PostgreSQL with PORTICO_TEST_BACKEND=postgres (issue 15), each test server on a fresh database
 * (`CREATE DATABASE`) of one cluster. Under vitest the cluster is started once for the whole run
 * by the global setup (tests/helpers/pg-global-setup.ts, which hands its URL on in
 * PORTICO_TEST_PG_URL) and stopped at its end; elsewhere (the bench harness) once per process,
 * through a module-level promise, and killed at exit.
 */
import pg from 'pg';
import { startPostgres } from './postgres.js';

export const backend: 'sqlite' | 'postgres' = process.env.PORTICO_TEST_BACKEND === 'postgres' ? 'postgres' : 'sqlite';

let cluster: Promise<string> | undefined;

/** The cluster's URL (its `portico` database). */
export function postgresCluster(): Promise<string> {
  const given = process.env.PORTICO_TEST_PG_URL;
  if (given) return Promise.resolve(given);
  return (cluster ??= startPostgres().then((db) => db.url));
}

let made = 0;

/** A new empty database on the cluster; answers its URL. */
export async function freshDatabase(): Promise<string> {
  const url = new URL(await postgresCluster());
  const name = `t${process.pid}_${++made}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = new pg.Client({ connectionString: url.toString() });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  url.pathname = `/${name}`;
  return url.toString();
}
