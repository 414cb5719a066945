/**
 * The media sweep: deletes expired media items, then every stored file and unpacked game no
 * remaining item refers to. Contents are shared (the same bytes pushed twice are stored once),
 * so a file goes only when no item at all, expired or not yet, still names it. Files left behind
 * by a crash or by earlier versions (which never deleted anything) go the same way. Runs through
 * the upload gate, so it never sees a push between keeping its file and recording its item.
 */
import type { Logger } from 'pino';
import type { Store } from '../store/store.js';
import { MediaStorage } from './storage.js';

export class MediaSweeper {
  private readonly storage: MediaStorage;
  private running: Promise<void> | undefined;

  constructor(
    private readonly store: Store,
    dataDir: string,
    private readonly log?: Logger,
  ) {
    this.storage = new MediaStorage(dataDir);
  }

  /** One sweep; a call while one runs joins it. */
  sweep(now = Date.now()): Promise<void> {
    return (this.running ??= this.storage.gate
      .alone(async () => {
        const { items, keep } = await this.store.portal.deleteExpiredMedia(now);
        const files = await this.storage.deleteAllBut(keep);
        if (items > 0 || files > 0) this.log?.info({ items, files }, 'deleted expired media');
      })
      .finally(() => (this.running = undefined)));
  }

  /** Waits for a sweep in progress (before the store closes). */
  async idle(): Promise<void> {
    await this.running?.catch(() => {});
  }
}
