/** A provider's notice: stored and announced to everyone (the portal topic). */
import { topicOf, type Notice } from '../../../shared/index.js';
import { insertItem, iso } from '../providers/items.js';
import type { StoreTx } from '../store/store.js';

export async function addNotice(
  tx: StoreTx,
  providerId: number,
  channel: string,
  input: { text?: string; html?: string; url?: string; priority: number; startsAt?: number; endsAt?: number },
) {
  const now = Date.now();
  const { item: notice } = await insertItem(tx, 'notice', providerId, channel, { ...input, expiresAt: input.endsAt, now }, (id, name): Notice => ({
    id,
    channel: name,
    text: input.text,
    html: input.html,
    url: input.url,
    priority: input.priority,
    startsAt: input.startsAt === undefined ? undefined : iso(input.startsAt),
    endsAt: input.endsAt === undefined ? undefined : iso(input.endsAt),
    createdAt: iso(now),
  }));
  await tx.append(topicOf.portal, { type: 'notice.item', notice }, now);
  return notice;
}
