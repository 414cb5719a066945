/**
 * Topic names of the event log: the protocol's addressing, shared by the store (which appends
 * to them) and the event hub (which listens on them), so neither imports the other.
 */
export const topicOf = {
  user: (userId: number) => `u:${userId}`,
  presence: (userId: number) => `p:${userId}`,
  chat: (chatId: string) => `c:${chatId}`,
  /** A meeting guest's own topic (admitted, rejected, ended). */
  guest: (guestId: number) => `g:${guestId}`,
  ticker: (channelId: number) => `t:${channelId}`,
  /** Portal content every user receives: notices, media, charts, links. */
  portal: 'portal',
};
