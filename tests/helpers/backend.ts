/**
 * Which store the test servers run on: SQLite in their data directory (the default), or
 * PostgreSQL with PORTICO_TEST_BACKEND=postgres (issue 15), each test server on a fresh database
 * (`CREATE DATABASE`) of one cluster. Under vitest the cluster is started once for the whole run
 * by the global setup (tests/helpers/pg-global-setup.ts, which hands its URL on in
 * PORTICO_TEST_PG_URL) and stopped at its end; elsewhere (the bench harness) once per process,
 * through a module-level promise, and killed at exit.
 */
import Database from 'better-sqlite3';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { databaseFile } from '../../server/src/config.js';
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

/** Where a test server's data directory notes its database, so a server started again on the directory finds it. */
const noteOf = (dataDir: string) => join(dataDir, 'test-database-url');

/** The database of the server on this data directory: the one noted there, else a fresh one (noted). */
export async function databaseFor(dataDir: string): Promise<string> {
  if (existsSync(noteOf(dataDir))) return readFileSync(noteOf(dataDir), 'utf8');
  const url = await freshDatabase();
  writeFileSync(noteOf(dataDir), url, { mode: 0o600 });
  return url;
}

/**
 * SQL on a test server's database, whichever the backend (`?` placeholders; PostgreSQL's
 * booleans and BIGINTs come back as SQLite's 0/1 and numbers), for tests that change or inspect
 * rows directly.
 */
export async function serverSql(server: { dataDir: string; services: { config: { databaseUrl?: string } } }): Promise<{
  all(sql: string, params?: unknown[]): Promise<Array<Record<string, any>>>;
  /** The store's tables, by name. */
  tables(): Promise<string[]>;
  close(): Promise<void>;
}> {
  const url = server.services.config.databaseUrl;
  if (!url) {
    const db = new Database(databaseFile(server.dataDir));
    return {
      all: async (sql, params = []) => {
        const statement = db.prepare(sql);
        return statement.reader ? (statement.all(...params) as Array<Record<string, any>>) : (statement.run(...params), []);
      },
      tables: async () => (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").pluck().all() as string[]),
      close: async () => void db.close(),
    };
  }
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return {
    all: async (sql, params = []) => {
      let n = 0;
      const rows = (await client.query(sql.replace(/\?/g, () => `$${++n}`), params)).rows as Array<Record<string, any>>;
      for (const r of rows) for (const k in r) r[k] = typeof r[k] === 'boolean' ? Number(r[k]) : typeof r[k] === 'string' && /^-?\d+$/.test(r[k]) && /^(n|s|seq|count|id)$/.test(k) ? Number(r[k]) : r[k];
      return rows;
    },
    tables: async () => (await client.query("SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name")).rows.map((r) => r.name as string),
    close: () => client.end(),
  };
}

/**
 * The environment an admin CLI run needs to reach a test server's store: the database noted in
 * the data directory it names (-d, --data-dir, PORTICO_DATA_DIR), if a test server made one there.
 */
export function cliEnvFor(args: string[], env: Record<string, string> = {}): Record<string, string> {
  const flag = args.findIndex((a) => a === '-d' || a === '--data-dir');
  const dir = flag >= 0 ? args[flag + 1] : env.PORTICO_DATA_DIR;
  return dir && existsSync(noteOf(dir)) ? { PORTICO_DATABASE_URL: readFileSync(noteOf(dir), 'utf8'), ...env } : env;
}
