/**
 * The disk's own fsync, measured in the run (`bench/run.ts` starts it pinned to the servers'
 * core, in the directory the Portico data directories are made in): `count` times, append 4 KiB
 * to a file and fsync it, as the store does with its WAL after each COMMIT (server/src/store/
 * sqlite.ts fsyncs the WAL file, not fdatasync). Prints one JSON line: p50, p99, max in ms.
 * A durable message cannot be delivered sooner than its fsync, so the latency targets allow it.
 */
import { closeSync, fsyncSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { quantile } from './stats.js';

const [dir = '.', countArg = '300'] = process.argv.slice(2);
const count = Number(countArg);
const file = join(dir, `fsync-probe-${process.pid}`);
const page = Buffer.alloc(4096, 7);
const fd = openSync(file, 'a', 0o600);
const ms: number[] = [];
try {
  for (let i = 0; i < count; i++) {
    const t = process.hrtime.bigint();
    writeSync(fd, page);
    fsyncSync(fd);
    ms.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
} finally {
  closeSync(fd);
  rmSync(file, { force: true });
}
console.log(JSON.stringify({ samples: ms.length, p50: quantile(ms, 0.5), p99: quantile(ms, 0.99), max: Math.max(...ms) }));
