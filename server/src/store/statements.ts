/**
 * Prepared statements kept for reuse. better-sqlite3 compiles the SQL on every `prepare`; the
 * store's queries are fixed strings, and compiling them per call showed in profiles (a panel's
 * first poll looked up its ticker channels with two fresh compiles: ~6 % of a connect storm).
 */
import type Database from 'better-sqlite3';

/** Bounds the cache should a query text ever be built from data. */
const MAX_STATEMENTS = 1000;

export type Prepare = (sql: string) => Database.Statement;

export function statementCache(db: Database.Database): Prepare {
  const cache = new Map<string, Database.Statement>();
  return (sql) => {
    const kept = cache.get(sql);
    // A caller may have switched a reader to pluck/raw/expand mode: each use starts plain.
    if (kept) return kept.reader ? kept.pluck(false).raw(false).expand(false) : kept;
    if (cache.size >= MAX_STATEMENTS) cache.clear();
    const statement = db.prepare(sql);
    cache.set(sql, statement);
    return statement;
  };
}
