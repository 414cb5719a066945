/** scripts/check-awaits.ts (part of `npm run lint`) finds the misused promises an async StoreTx invites, and only those. */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

describe('check-awaits', () => {
  it('reports each misused promise of the fixture by line, and nothing in its correct twin', () => {
    let out = '';
    try {
      execFileSync(process.execPath, ['--import', 'tsx', 'scripts/check-awaits.ts', 'tests/unit/fixtures/misused-promises.ts'], { encoding: 'utf8' });
    } catch (error) {
      out = (error as { stdout: string }).stdout; // exit 1: something found
    }
    const found = out.trim().split('\n').map((line) => line.replace(/^.*misused-promises\.ts:(\d+):\d+: ([^:]+):.*$/, '$1 $2'));
    expect(found).toEqual([
      '6 promise as a condition',
      '7 promise as a condition',
      '8 promise not awaited',
      '9 async function where a plain value is expected',
      '10 async function where a plain value is expected',
    ]);
  }, 120_000);
});
