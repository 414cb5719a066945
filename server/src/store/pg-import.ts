/**
 * `portico db import --from <data dir>`: copies an embedded (SQLite) installation into an empty
 * PostgreSQL database, keeping every id and every sequence number, so the panels' cursors, the
 * chats' ids in their topics and the sessions' tokens stay valid after the move.
 *
 * One transaction: the database is either empty or holds the whole installation. Tables go in
 * the order of their foreign keys; each identity sequence is moved past the highest id copied
 * (or SQLite's own AUTOINCREMENT mark, which can be higher: rows deleted at the end, events
 * pruned), so a new row never reuses an id a panel may have seen.
 *
 * The copy is driven by PostgreSQL's schema: every column both sides have is copied, converted to
 * PostgreSQL's type (SQLite keeps booleans as 0/1). A column that only SQLite has would be lost:
 * the import refuses then, naming it (the two schemas are kept alike: pg-schema.ts).
 */
import Database from 'better-sqlite3';
import type pg from 'pg';
import { migratePostgres, PG_LOCKS } from './pg-schema.js';

/** SQLite's own tables and the FTS5 index (PostgreSQL searches with pg_trgm over messages itself). */
const SQLITE_ONLY = /^(sqlite_|messages_fts)/;
/** `meta` keys that describe SQLite's own state (how far its FTS index is), not the data. */
const SQLITE_ONLY_META = new Set(['fts_indexed_through']);
/** Rows per INSERT (PostgreSQL takes at most 65,535 parameters per statement). */
const ROWS_PER_INSERT = 500;

export class ImportError extends Error {}

export interface ImportSummary {
  /** Rows copied per table, in the order copied. */
  tables: Array<{ table: string; rows: number }>;
  /** The event log's last sequence number (the next event gets a higher one). */
  headSeq: number;
}

interface PgColumn {
  name: string;
  type: string;
  identity: boolean;
}

export async function importSqlite(sqliteFile: string, pool: pg.Pool): Promise<ImportSummary> {
  const source = openSource(sqliteFile);
  try {
    await migratePostgres(pool);
    const client = await pool.connect();
    try {
      // The migration lock keeps a node that starts meanwhile from making its first admin.
      await client.query('SELECT pg_advisory_lock($1)', [PG_LOCKS.migrate.toString()]);
      try {
        await client.query('BEGIN');
        source.exec('BEGIN'); // one snapshot of the source, even if its server still writes
        try {
          const summary = await copyAll(source, client);
          await client.query('COMMIT');
          return summary;
        } catch (error) {
          await client.query('ROLLBACK');
          throw error;
        }
      } finally {
        await client.query('SELECT pg_advisory_unlock($1)', [PG_LOCKS.migrate.toString()]);
      }
    } finally {
      client.release();
    }
  } finally {
    source.close();
  }
}

function openSource(file: string): Database.Database {
  let db: Database.Database;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
  } catch (error) {
    throw new ImportError(`cannot open the SQLite database ${file}: ${(error as Error).message}`);
  }
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version === 0) {
    db.close();
    throw new ImportError(`${file} is not a Portico database (no schema)`);
  }
  return db;
}

async function copyAll(source: Database.Database, client: pg.PoolClient): Promise<ImportSummary> {
  const columns = await pgColumns(client);
  const order = await foreignKeyOrder(client, [...columns.keys()]);
  for (const table of order) {
    const { rows } = await client.query(`SELECT EXISTS (SELECT 1 FROM "${table}") AS any`);
    if (rows[0].any) throw new ImportError(`the PostgreSQL database already has data (table ${table}): import into an empty database`);
  }

  const sqliteTables = new Map<string, string[]>();
  for (const table of source.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[]) {
    if (SQLITE_ONLY.test(table)) continue;
    sqliteTables.set(table, (source.pragma(`table_info("${table}")`) as Array<{ name: string }>).map((c) => c.name));
  }
  for (const [table, cols] of sqliteTables) {
    const pgCols = columns.get(table);
    if (!pgCols) throw new ImportError(`table ${table} has no place in the PostgreSQL schema: this Portico cannot import it without losing it`);
    const missing = cols.filter((c) => !pgCols.some((p) => p.name === c));
    if (missing.length > 0) throw new ImportError(`column ${missing.map((c) => `${table}.${c}`).join(', ')} has no place in the PostgreSQL schema: this Portico cannot import it without losing it`);
  }

  const autoincrement = new Map<string, number>(
    (source.prepare('SELECT name, seq FROM sqlite_sequence').all() as Array<{ name: string; seq: number }>).map((r) => [r.name, r.seq]),
  );
  const tables: ImportSummary['tables'] = [];
  for (const table of order) {
    const cols = sqliteTables.get(table);
    if (!cols) continue; // a PostgreSQL-only table (schema_version): nothing to copy
    const pgCols = columns.get(table)!.filter((c) => cols.includes(c.name));
    const rows = await copyTable(source, client, table, pgCols);
    tables.push({ table, rows });
    for (const col of pgCols.filter((c) => c.identity)) {
      const { rows: max } = await client.query(`SELECT max("${col.name}")::bigint AS max FROM "${table}"`);
      const next = Math.max(Number(max[0].max ?? 0), autoincrement.get(table) ?? 0);
      // setval(seq, n, true): the next value is n + 1; with nothing to move past, the sequence stays at its start.
      if (next > 0) await client.query(`SELECT setval(pg_get_serial_sequence($1, $2), $3, true)`, [table, col.name, next]);
    }
  }
  const { rows: head } = await client.query('SELECT coalesce(max(seq), 0)::bigint AS head FROM events');
  return { tables, headSeq: Math.max(Number(head[0].head), autoincrement.get('events') ?? 0) };
}

async function copyTable(source: Database.Database, client: pg.PoolClient, table: string, cols: PgColumn[]): Promise<number> {
  const names = cols.map((c) => `"${c.name}"`).join(', ');
  const convert = cols.map((c) => converter(table, c));
  const insert = async (batch: unknown[][]) => {
    const params: unknown[] = [];
    const tuples = batch.map((row) => `(${row.map((v, i) => (params.push(convert[i]!(v)), `$${params.length}`)).join(', ')})`);
    await client.query(`INSERT INTO "${table}" (${names}) VALUES ${tuples.join(', ')}`, params);
  };
  // rowid order: a row that refers to an earlier row of its own table comes after it.
  const where = table === 'meta' ? ` WHERE key NOT IN (${[...SQLITE_ONLY_META].map((k) => `'${k}'`).join(', ')})` : '';
  const withoutRowid = (source.prepare("SELECT sql FROM sqlite_master WHERE name = ?").pluck().get(table) as string).includes('WITHOUT ROWID');
  const statement = source.prepare(`SELECT ${names} FROM "${table}"${where}${withoutRowid ? '' : ' ORDER BY rowid'}`).raw();
  let batch: unknown[][] = [];
  let count = 0;
  for (const row of statement.iterate() as IterableIterator<unknown[]>) {
    batch.push(row);
    count++;
    if (batch.length === ROWS_PER_INSERT) {
      await insert(batch);
      batch = [];
    }
  }
  if (batch.length > 0) await insert(batch);
  return count;
}

/** SQLite's value as PostgreSQL's column type takes it. */
function converter(table: string, col: PgColumn): (v: unknown) => unknown {
  switch (col.type) {
    case 'boolean':
      return (v) => (v === null ? null : v !== 0 && v !== '0' && v !== false);
    case 'text':
      return (v) => (v === null || typeof v === 'string' ? v : Buffer.isBuffer(v) ? v.toString('utf8') : String(v));
    case 'bytea':
      return (v) => {
        if (v === null || Buffer.isBuffer(v)) return v;
        throw new ImportError(`${table}.${col.name}: expected bytes, found ${typeof v}`);
      };
    default:
      return (v) => v;
  }
}

async function pgColumns(client: pg.PoolClient): Promise<Map<string, PgColumn[]>> {
  const { rows } = await client.query<{ table_name: string; column_name: string; data_type: string; is_identity: string }>(
    `SELECT table_name, column_name, data_type, is_identity FROM information_schema.columns
      WHERE table_schema = current_schema() AND table_name <> 'schema_version' ORDER BY table_name, ordinal_position`,
  );
  const tables = new Map<string, PgColumn[]>();
  for (const r of rows) {
    const list = tables.get(r.table_name) ?? [];
    list.push({ name: r.column_name, type: r.data_type, identity: r.is_identity === 'YES' });
    tables.set(r.table_name, list);
  }
  return tables;
}

/** The tables, each after those its foreign keys refer to. */
async function foreignKeyOrder(client: pg.PoolClient, tables: string[]): Promise<string[]> {
  const { rows } = await client.query<{ child: string; parent: string }>(
    `SELECT c.relname AS child, p.relname AS parent FROM pg_constraint k
       JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class p ON p.oid = k.confrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE k.contype = 'f' AND n.nspname = current_schema()`,
  );
  const parents = new Map<string, Set<string>>(tables.map((t) => [t, new Set()]));
  for (const { child, parent } of rows) if (child !== parent) parents.get(child)?.add(parent);
  const order: string[] = [];
  const placed = new Set<string>();
  const place = (table: string, path: Set<string>) => {
    if (placed.has(table)) return;
    if (path.has(table)) throw new ImportError(`foreign keys form a cycle through ${table}`);
    path.add(table);
    for (const parent of [...(parents.get(table) ?? [])].sort()) place(parent, path);
    path.delete(table);
    placed.add(table);
    order.push(table);
  };
  for (const table of [...tables].sort()) place(table, new Set());
  return order;
}
