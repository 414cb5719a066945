/** Limits and timings of the protocol, shared by server and client. */
export const LIMITS = {
  /** Largest JSON body the API accepts (bytes). */
  jsonBodyBytes: 64 * 1024,
  /** Longest chat message (characters). */
  messageChars: 4000,
  usernameChars: 32,
  displayNameChars: 80,
  passwordMinChars: 8,
  passwordMaxChars: 256,
  clientIdChars: 64,
  /** Most invitees in one chat request (the creator comes on top). */
  invitees: 49,
  /** Page sizes. */
  historyPage: 50,
  historyPageMax: 200,
  eventsPage: 500,
  userSearchResults: 50,
  /** Longest reaction (UTF-16 units): one emoji, or a few joined (a family, a flag). */
  reactionChars: 32,
  /** Most different emoji one user may put on one message. */
  reactionsPerUser: 20,
} as const;

export const TIMINGS = {
  /** Default hold time of GET /events, seconds. */
  pollWaitDefault: 25,
  /** Longest hold, seconds: below the idle timeouts common proxies use (60 s). */
  pollWaitMax: 55,
  /** Longest announced interval between polls of an interval-polling client, seconds. */
  pollIntervalMax: 3600,
  /** A user's typing notices in one chat are relayed at most this often (ms); more are dropped. */
  typingRelayMs: 2000,
} as const;
