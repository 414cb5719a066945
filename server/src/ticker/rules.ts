/** A provider's ticker item: stored once per channel and announced on the channel's topic. */
import { topicOf, type TickerItem } from '../../../shared/index.js';
import { insertItem, iso } from '../providers/items.js';
import type { StoreTx } from '../store/store.js';

export async function addTicker(tx: StoreTx, providerId: number, channel: string, input: { text: string; url?: string; priority: number; expiresAt?: number }) {
  const now = Date.now();
  const { item, channelId } = await insertItem(tx, 'ticker', providerId, channel, { ...input, now }, (id, name): TickerItem => ({
    id,
    channel: name,
    text: input.text,
    url: input.url,
    priority: input.priority,
    createdAt: iso(now),
    expiresAt: input.expiresAt === undefined ? undefined : iso(input.expiresAt),
  }));
  await tx.append(topicOf.ticker(channelId), { type: 'ticker.item', ...item }, now);
  return item;
}
