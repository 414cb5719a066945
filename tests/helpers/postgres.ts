/**
 * A real PostgreSQL (Debian's) for the tests: its own cluster in a temporary directory, on a free
 * loopback port, with password (SCRAM) authentication over TCP only. PostgreSQL refuses to run as
 * root, so the cluster belongs to the `postgres` user and both initdb and the server run as that
 * user (spawned with its uid and gid: the postmaster is our child, its backends in its group). The server runs in the foreground in its own process group: stop() ends it
 * (fast shutdown), kill() is a crash (SIGKILL, for fault tests), start() again on the same
 * directory is a restart. An exit hook kills it if a run ends without stop().
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort, killGroup, track, waitForPort } from './squid.js';

/** The newest installed server (e.g. /usr/lib/postgresql/15/bin). */
export function postgresBin(): string | undefined {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  const versions = readdirSync(base)
    .filter((v) => existsSync(join(base, v, 'bin', 'postgres')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] && join(base, versions[0], 'bin');
}

export const HAVE_POSTGRES = postgresBin() !== undefined && spawnSync('id', ['-u', 'postgres']).status === 0;

export interface Postgres {
  /** postgres://portico:<password>@127.0.0.1:<port>/portico */
  url: string;
  port: number;
  dir: string;
  /** A client of its own for one query (tests, fault injection). */
  query<T extends pg.QueryResultRow = any>(sql: string, params?: unknown[]): Promise<pg.QueryResult<T>>;
  /** Starts the server again on the same cluster (after stop or kill). */
  start(): Promise<void>;
  /** Fast shutdown (SIGINT), waiting for the exit. */
  stop(): Promise<void>;
  /** A crash: SIGKILL to the postmaster's group. */
  kill(): Promise<void>;
  /** Stops and removes the cluster. */
  destroy(): Promise<void>;
}

/** Runs as the `postgres` user, from a directory it may read. */
const asPostgres = () => ({ uid: uidOf('postgres'), gid: gidOf('postgres'), cwd: '/', env: { ...process.env, HOME: '/var/lib/postgresql', LC_ALL: 'C.UTF-8' } });

export async function startPostgres(options: { database?: string } = {}): Promise<Postgres> {
  const bin = postgresBin();
  if (!bin) throw new Error('PostgreSQL is not installed (apt-get install postgresql)');
  const root = mkdtempSync(join(tmpdir(), 'portico-pg-'));
  chmodSync(root, 0o755); // the postgres user must reach the cluster inside
  const dir = join(root, 'cluster');
  const password = `pw-${Math.random().toString(36).slice(2)}`;
  const pwfile = join(root, 'pwfile');
  writeFileSync(pwfile, password, { mode: 0o600 });
  chownSync(root, uidOf('postgres'), gidOf('postgres'));
  chownSync(pwfile, uidOf('postgres'), gidOf('postgres'));
  const init = spawnSync(join(bin, 'initdb'), ['-D', dir, '-U', 'portico', `--pwfile=${pwfile}`, '--auth-local=scram-sha-256', '--auth-host=scram-sha-256', '-E', 'UTF8', '--locale=C.UTF-8', '--no-sync'], {
    ...asPostgres(),
    encoding: 'utf8',
  });
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr || init.stdout}`);
  rmSync(pwfile);
  const port = await freePort();
  const database = options.database ?? 'portico';
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  const urlOf = (db: string) => `postgres://portico:${encodeURIComponent(password)}@127.0.0.1:${port}/${db}`;
  const url = urlOf(database);

  const start = async () => {
    // TCP on loopback only; the socket directory is the cluster's own; fsync stays on (the
    // durability tests depend on it).
    child = spawn(join(bin, 'postgres'), ['-D', dir, '-p', String(port), '-h', '127.0.0.1', '-k', dir, '-c', 'max_connections=200', '-c', 'log_min_messages=warning'], {
      ...asPostgres(),
      detached: true,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    track(child);
    let log = '';
    child.stderr!.on('data', (c: Buffer) => (log = (log + c.toString()).slice(-4000)));
    const proc = child;
    exited = new Promise((resolve) => proc.once('exit', () => resolve()));
    try {
      await waitForPort(port, 30_000, () => proc.exitCode === null);
      await waitReady(urlOf('postgres'));
    } catch (error) {
      throw new Error(`PostgreSQL did not start: ${(error as Error).message}\n${log}`);
    }
  };
  await start();
  const admin = new pg.Client({ connectionString: urlOf('postgres') });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  await admin.end();

  const stopWith = async (signal: NodeJS.Signals) => {
    if (!child || child.exitCode !== null) return;
    killGroup(child, signal);
    await exited;
  };
  return {
    url,
    port,
    dir,
    async query(sql, params) {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        return await client.query(sql, params as unknown[]);
      } finally {
        await client.end();
      }
    },
    start,
    stop: () => stopWith('SIGINT'),
    kill: () => stopWith('SIGKILL'),
    async destroy() {
      await stopWith('SIGINT');
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** Until a connection is accepted (the port opens before recovery is over). */
async function waitReady(url: string, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const client = new pg.Client({ connectionString: url });
    try {
      await client.connect();
      await client.end();
      return;
    } catch (error) {
      await client.end().catch(() => {});
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

function uidOf(user: string): number {
  return Number(spawnSync('id', ['-u', user], { encoding: 'utf8' }).stdout.trim());
}
function gidOf(user: string): number {
  return Number(spawnSync('id', ['-g', user], { encoding: 'utf8' }).stdout.trim());
}
