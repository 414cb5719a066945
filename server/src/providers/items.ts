/**
 * What a provider pushes (ticker items, notices, media) is stored as an item row whose body is
 * the protocol object; the body needs the id the row got. The features' rules (ticker/, notices/,
 * media/) build the body and announce it, in one store write.
 */
import type { ItemKind } from '../store/portal.js';
import type { StoreTx } from '../store/store.js';

/** Drops undefined fields, so optional protocol fields are absent rather than null. */
export const defined = <T extends object>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;

export const iso = (ms: number) => new Date(ms).toISOString();

/** Inserts the item into the channel (StoreError not_found for an unknown one) and stores the body `build` makes. */
export async function insertItem<T extends object>(
  tx: StoreTx,
  kind: ItemKind,
  providerId: number,
  channelName: string,
  at: { priority: number; startsAt?: number; expiresAt?: number; now: number },
  build: (id: number, channel: string) => T,
): Promise<{ item: T; channelId: number }> {
  const channel = await tx.portal.channel(channelName);
  const id = await tx.portal.insertItem(kind, { channelId: channel.id, providerId, priority: at.priority, startsAt: at.startsAt, expiresAt: at.expiresAt, createdAt: at.now });
  const item = defined(build(id, channel.name));
  await tx.portal.setItemBody(id, item);
  return { item, channelId: channel.id };
}
