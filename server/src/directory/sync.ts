/**
 * Directory sync: `portico directory sync` and, every PORTICO_LDAP_SYNC_MINUTES, the running
 * server. Reads the directory, plans the changes (rules.ts), and applies them in one write; the
 * hooks then end the polls of disabled users and move the subscriptions of those whose contacts
 * changed. Idempotent (see rules.ts): every node of a cluster may run it.
 */
import type { AccountHooks } from '../admin/accounts.js';
import type { Store } from '../store/store.js';
import type { Directory } from './ldap.js';
import { applyChange, planSync, type SyncChange } from './rules.js';

export interface SyncResult {
  /** Planned (dry run) or applied changes. */
  changes: SyncChange[];
  /** What was left alone and why. */
  notes: string[];
}

export class DirectorySync {
  private running: Promise<SyncResult> | undefined;

  constructor(
    private readonly store: Store,
    private readonly directory: Directory,
    private readonly hooks: AccountHooks,
  ) {}

  /** One sync at a time in this process: a timer firing during a slow directory joins the run. */
  run(options: { dryRun?: boolean } = {}): Promise<SyncResult> {
    if (options.dryRun) return this.plan();
    return (this.running ??= this.apply().finally(() => (this.running = undefined)));
  }

  /** Settles once a sync in progress has ended (before the store closes). */
  async idle(): Promise<void> {
    await this.running?.catch(() => {});
  }

  private async plan(): Promise<SyncResult> {
    const snapshot = await this.directory.snapshot();
    const [users, groups] = await Promise.all([this.store.listUsers(), this.store.listGroups()]);
    return planSync(users, groups, snapshot);
  }

  private async apply(): Promise<SyncResult> {
    const { changes, notes } = await this.plan();
    if (changes.length === 0) return { changes, notes };
    const results = await this.store.write(async (tx) => {
      const applied = [];
      for (const c of changes) applied.push(await applyChange(tx, c));
      return applied;
    });
    const moved = new Set(results.flatMap((r) => r.contactsMoved));
    for (const r of results) if (r.disabled !== undefined) await this.hooks.userRemoved(r.disabled);
    if (moved.size > 0) this.hooks.subscriptionsChanged([...moved]);
    return { changes: changes.filter((_, i) => results[i]!.done), notes };
  }
}
