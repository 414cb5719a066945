/**
 * A poll's topics must not predate a change announced while they were looked up: the poll would
 * hold without the new chat's topic while other events move its cursor past that chat's first
 * message (lost to it). The store here answers when the test says, so the change can land in
 * the middle of the lookup, as it can on a loaded server.
 */
import { describe, expect, it } from 'vitest';
import { EventHub } from '../../server/src/events/hub.js';
import { Subscriptions } from '../../server/src/events/subscriptions.js';
import type { Store } from '../../server/src/store/store.js';

function slowStore() {
  let chatIds: string[] = [];
  const gates: Array<() => void> = [];
  const store = {
    async subscriptions() {
      const seen = [...chatIds]; // what the database holds when the read runs
      await new Promise<void>((open) => gates.push(open));
      return { contactIds: [], chatIds: seen };
    },
    portal: { tickerChannelsFor: async () => [] },
  } as unknown as Store;
  return { store, gates, join: (chatId: string) => (chatIds = [...chatIds, chatId]) };
}

const flush = () => new Promise((r) => setImmediate(r));

describe('Subscriptions.settled', () => {
  it('looks again when a change was announced during the lookup, so the new chat is in the topics', async () => {
    const { store, gates, join } = slowStore();
    const subscriptions = new Subscriptions(store, new EventHub());
    const looking = subscriptions.settled(7);
    await flush();
    // The user accepts a chat while the lookup is out: committed, then announced.
    join('c-new');
    subscriptions.changed(7);
    gates.shift()!(); // the first read answers what it saw before the accept
    await flush();
    gates.shift()?.(); // the second read (only if it looks again)
    const topics = await looking;
    expect(topics).toContain('c:c-new');
  });

  it('answers from the first lookup when nothing changed meanwhile', async () => {
    const { store, gates, join } = slowStore();
    join('c-old');
    const subscriptions = new Subscriptions(store, new EventHub());
    const looking = subscriptions.settled(7);
    await flush();
    gates.shift()!();
    expect(await looking).toContain('c:c-old');
    expect(gates).toHaveLength(0);
  });
});
