/** The links area: stored (sanitized by the caller) and announced to everyone. */
import { topicOf } from '../../../shared/index.js';
import type { StoreTx } from '../store/store.js';

export async function setLinks(tx: StoreTx, html: string) {
  const updatedAt = new Date().toISOString();
  await tx.portal.setLinks(html, updatedAt);
  await tx.append(topicOf.portal, { type: 'links.changed', html });
  return { html, updatedAt };
}
