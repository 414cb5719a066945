/**
 * WAL checkpoints on a worker thread, off the event loop.
 *
 * SQLite's automatic checkpoint runs inside the COMMIT that crosses 1,000 WAL pages, on the
 * event loop: that commit copies the pages into the database file and syncs it, 10-14 ms in
 * which no poll is answered, and on average about half of what a one-message commit costs
 * (measured here: 106 µs per transaction with it, 57 µs without). The store turns it off
 * (`wal_autocheckpoint = 0`) and this thread, with its own connection, checkpoints every
 * `everyMs` in PASSIVE mode, which never waits for or blocks the writer. If the thread fails,
 * the store goes back to automatic checkpoints so the WAL cannot grow without bound.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

// Plain CommonJS run by the worker (`eval`): no TypeScript loader is needed in the thread.
const THREAD = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('busy_timeout = 5000');
const timer = setInterval(() => db.pragma('wal_checkpoint(PASSIVE)'), workerData.everyMs);
parentPort.on('message', () => {
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

export class Checkpointer {
  private worker: Worker | undefined;
  private exited: Promise<void> = Promise.resolve();
  private readonly starting: NodeJS.Timeout;

  constructor(file: string, everyMs: number, onFailure: (error: Error) => void) {
    // The thread starts when the first checkpoint is due: a store open for less than that (an
    // admin command) never pays for starting one (about 0.1 s of CPU, more on a busy machine).
    this.starting = setTimeout(() => {
      const driver = createRequire(import.meta.url).resolve('better-sqlite3');
      const worker = new Worker(THREAD, { eval: true, workerData: { file, driver, everyMs } });
      worker.on('error', onFailure);
      worker.unref(); // a store left open does not keep the process alive for its checkpoints
      this.exited = new Promise((done) => worker.once('exit', () => done()));
      this.worker = worker;
    }, everyMs);
    this.starting.unref();
  }

  /** Stops after the checkpoint in progress, if any; its connection is closed when this settles. */
  stop(): Promise<void> {
    clearTimeout(this.starting);
    if (!this.worker) return this.exited;
    this.worker.ref(); // waited for now: the process must not end (silently) meanwhile
    this.worker.postMessage('stop');
    return this.exited;
  }
}
