import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { statementCache } from '../../server/src/store/statements.js';

describe('statementCache', () => {
  it('compiles a query text once, and each use starts in plain mode whatever the last caller switched on', () => {
    const db = new Database(':memory:');
    db.exec("CREATE TABLE t (a, b); INSERT INTO t VALUES (1, 'x')");
    const prepare = statementCache(db);
    const sql = 'SELECT a, b FROM t';
    expect(prepare(sql)).toBe(prepare(sql));
    expect(prepare(sql).pluck().get()).toBe(1);
    expect(prepare(sql).get()).toEqual({ a: 1, b: 'x' });
    expect(prepare(sql).raw().get()).toEqual([1, 'x']);
    expect(prepare(sql).get()).toEqual({ a: 1, b: 'x' });
    expect(prepare('INSERT INTO t VALUES (?, ?)').run(2, 'y').changes).toBe(1); // writers have no modes
    expect(prepare('INSERT INTO t VALUES (?, ?)').run(3, 'z').changes).toBe(1);
    expect(prepare('SELECT count(*) FROM t').pluck().get()).toBe(3);
    db.close();
  });
});
