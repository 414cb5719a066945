/**
 * Message search indexing off the send path.
 *
 * The trigram index (FTS5, migration 9) made every message insert pay for tokenizing its text into
 * trigrams and writing a new index segment per transaction: ~20-30x a plain insert (measured here:
 * 115-200 µs against 4-9 µs per message, four per transaction, on a busy machine), on the path of
 * every send. Messages are now indexed in bulk shortly after they are stored, in one write of
 * the group commit per round (cheaper per message than one segment per send); `meta` records how far
 * (`fts_indexed_through`), and search reads the few newer messages directly (sqlite.ts), so a
 * message is found the moment it is stored, as before. Edits and deletions of indexed messages
 * keep the index right through the triggers of migration 11.
 */
import type Database from 'better-sqlite3';

/**
 * Messages indexed per round at most: one write of the group commit, so a bounded pause of the
 * event loop (2,000 at once every 500 ms stalled it for tens of ms at 1,000 msg/s: chat p99
 * 1.8x); rounds follow each other with the loop free between them (each waits for its fsync).
 */
const BATCH = 64;

export class SearchIndexer {
  private readonly timer: NodeJS.Timeout;
  private running = false;
  private readonly newest;
  private readonly through;
  private readonly index;
  private readonly mark;
  private readonly merge;

  constructor(
    db: Database.Database,
    private readonly write: <T>(fn: () => T) => Promise<T>,
    everyMs: number,
    private readonly onError: (error: Error) => void,
  ) {
    this.newest = db.prepare("SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'messages'), 0)").pluck();
    this.through = db.prepare("SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'fts_indexed_through'").pluck();
    this.index = db.prepare('INSERT INTO messages_fts (rowid, text) SELECT id, text FROM messages WHERE id > ? AND id <= ? ORDER BY id');
    this.mark = db.prepare("UPDATE meta SET value = ? WHERE key = 'fts_indexed_through'");
    // FTS5's automatic merges come at once and grow with the index (rounds of 64 here: p99 20 ms,
    // up to 33 ms; migration 11 turns them off); a small merge step in every round spreads them
    // (p99 11 ms, max 16, the same mean, the index as compact: measured on 76,800 messages).
    this.merge = db.prepare("INSERT INTO messages_fts (messages_fts, rank) VALUES ('merge', 8)");
    this.timer = setInterval(() => void this.run(), everyMs); // run() reports its own errors
    this.timer.unref();
  }

  /** Indexes what is new (no write at all when nothing is). Settles once written. */
  async run() {
    if (this.running || (this.newest.get() as number) <= (this.through.get() as number)) return;
    this.running = true;
    try {
      for (;;) {
        const more = await this.write(() => {
          const from = this.through.get() as number;
          const to = Math.min(this.newest.get() as number, from + BATCH);
          if (to <= from) return false;
          this.index.run(from, to);
          this.merge.run();
          this.mark.run(String(to));
          return true;
        });
        if (!more) break;
      }
    } catch (error) {
      this.onError(error as Error);
    } finally {
      this.running = false;
    }
  }

  stop() {
    clearInterval(this.timer);
  }
}
