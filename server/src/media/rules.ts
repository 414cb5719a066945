/** A provider's media item: its quota checked in the write that records it, announced to everyone. */
import { topicOf } from '../../../shared/index.js';
import { insertItem, iso } from '../providers/items.js';
import type { MediaKind, MediaUsage, StoredMedia } from '../store/portal.js';
import type { StoreTx } from '../store/store.js';

export interface MediaQuota {
  /** Bytes the provider may hold; 0: no quota. */
  limit: number;
  /** What the new content takes (a game with its unpacked files). */
  bytes: number;
  refuse: (usage: MediaUsage) => Error;
}

/**
 * Records a media item. With `quota`, checks it in the same write (pushes racing each other
 * cannot both slip under it): if the provider does not hold this content yet and used + bytes >
 * limit, throws what `refuse` makes and records nothing.
 */
export async function addMedia(
  tx: StoreTx,
  providerId: number,
  channel: string,
  input: { title: string; kind: MediaKind; contentType: string; size: number; sha256: string; priority: number; expiresAt?: number },
  url: (item: StoredMedia) => string,
  quota?: MediaQuota,
) {
  if (quota && quota.limit > 0) {
    const usage = await tx.portal.mediaUsage(providerId, input.sha256, Date.now());
    if (!usage.holds && usage.used + quota.bytes > quota.limit) throw quota.refuse(usage);
  }
  const now = Date.now();
  const { item } = await insertItem(tx, 'media', providerId, channel, { ...input, now }, (id, name): StoredMedia => ({
    id,
    channel: name,
    title: input.title,
    kind: input.kind,
    contentType: input.contentType,
    size: input.size,
    sha256: input.sha256,
    priority: input.priority,
    createdAt: iso(now),
    expiresAt: input.expiresAt === undefined ? undefined : iso(input.expiresAt),
  }));
  const { sha256: _sha, ...shown } = item;
  await tx.append(topicOf.portal, { type: 'media.item', item: { ...shown, url: url(item) } }, now);
  return item;
}
