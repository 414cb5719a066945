/**
 * Bookkeeping gathered during a turn of the event loop and done right after it, all of it in one
 * setImmediate: work that no answer needs (a fan-out answers thousands of polls in one run, and
 * whatever sits between those answers delays the last of them).
 */
const waiting = new Set<{ flush(): void }>();

function runWaiting() {
  const batches = [...waiting];
  waiting.clear();
  // Every batch runs even if one throws (a batch left out would never be scheduled again).
  let failed: { error: unknown } | undefined;
  for (const batch of batches) {
    try {
      batch.flush();
    } catch (error) {
      failed ??= { error };
    }
  }
  if (failed) throw failed.error;
}

export class AfterTurn<T> {
  private items: T[] = [];

  constructor(private readonly run: (items: T[]) => void) {}

  add(item: T) {
    if (this.items.push(item) > 1) return;
    if (waiting.size === 0) setImmediate(runWaiting);
    waiting.add(this);
  }

  flush() {
    const items = this.items;
    this.items = [];
    this.run(items);
  }
}
