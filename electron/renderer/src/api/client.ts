/**
 * PorticoClient: the one API client every view of the panel shares. It runs in the browser (the
 * panel at /app), in Electron's renderer and in Node; no DOM, only fetch, AbortController,
 * timers and a StorageLike. This file is the facade; the work is done by its parts:
 *
 *   transport.ts       fetch, the one error parser, the method override, the request lane
 *   session.ts         token and user: login, logout, restore
 *   poll.ts            the event loop (cursor, dispatch, backoff, long/interval polling)
 *   policy.ts          how the next poll goes (cut detection), no I/O
 *   outbox.ts          unsent messages, kept across restarts
 *   outbox-sender.ts   sending and resending them
 *   endpoints.ts       the table of API calls: method, path, body, answer
 *
 * At most two requests are open at any time: the poll lane (the event loop's own held
 * GET /api/v1/events) and the request lane (everything else, one at a time, in the order asked).
 */
import { chatFileUploadPath, ENDPOINTS, meetingDocumentPath } from './endpoints.js';
import { Outbox, type OutboxEntry } from './outbox.js';
import { OutboxSender } from './outbox-sender.js';
import { PollLoop } from './poll.js';
import type { ModeSetting, PollMode } from './policy.js';
import { Session } from './session.js';
import { SafeStorage } from './storage.js';
import { Transport, type BinaryInit } from './transport.js';
import type { UploadProgress } from './upload.js';
import type * as T from './types.js';
import { Emitter } from './util.js';

export type * from './types.js';
export { METHOD_OVERRIDE_HEADER } from './transport.js';

const E = ENDPOINTS;

export class PorticoClient {
  readonly baseUrl: string;
  private readonly events = new Emitter();
  private readonly transport: Transport;
  private readonly session: Session;
  private readonly loop: PollLoop;
  private readonly sender: OutboxSender;
  private readonly store: SafeStorage;

  constructor(options: T.ClientOptions) {
    const store = (this.store = new SafeStorage(options.storage, options.storagePrefix ?? 'portico'));
    const emit: T.Emit = (type, payload) => this.events.emit(type, payload);
    this.transport = new Transport({
      baseUrl: options.baseUrl,
      fetch: options.fetch ?? ((input, init) => globalThis.fetch(input, init)),
      requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
      token: () => this.session.token,
      onUnauthorized: (token, error) => this.session.lost(token, error),
    });
    this.baseUrl = this.transport.baseUrl;
    const session = (this.session = new Session(store, this.transport, emit));
    const outbox = new Outbox(store);
    const loop = (this.loop = new PollLoop(options, this.transport, session, store, emit));
    const sender = (this.sender = new OutboxSender(options, outbox, this.transport, () => loop.started && session.token !== undefined, emit));
    session.hooks = {
      began: (owner) => {
        outbox.load(owner);
        loop.sessionBegan(owner);
        sender.announce();
        sender.kick(true);
      },
      ended: () => {
        loop.sessionEnded();
        sender.wake();
      },
      loggedOut: () => {
        loop.forgetCursor();
        outbox.clear();
        sender.announce();
      },
    };
  }

  // ---------- state ----------

  /** The logged-in user, after login() or restore(). */
  get user(): T.User | undefined {
    return this.session.user;
  }

  /** Whether a session token is at hand (it may still turn out expired). */
  get loggedIn(): boolean {
    return this.session.token !== undefined;
  }

  get connection(): T.ConnectionState {
    return this.loop.connection;
  }

  /** While waiting out a backoff after a failed poll: when the next try is due (ms since the epoch). */
  get retryAt(): number | undefined {
    return this.loop.retryAt;
  }

  /** The polling mode in effect. */
  get mode(): PollMode {
    return this.loop.mode;
  }

  /** The polling mode chosen: 'auto' unless setMode() chose one. */
  get modeSetting(): ModeSetting {
    return this.loop.modeSetting;
  }

  /** The hold of the next long poll in seconds (shorter than pollWait after cuts). */
  get pollWait(): number {
    return this.loop.pollWait;
  }

  /**
   * Whether PUT, PATCH and DELETE go as POST with X-HTTP-Method-Override: set for the rest of this
   * object's life once a proxy refused one of them and the override got through.
   */
  get methodOverride(): boolean {
    return this.transport.methodOverride;
  }

  /** The cursor of the last event handled (undefined before the first poll). */
  get cursor(): string | undefined {
    return this.loop.cursor;
  }

  /** An absolute URL for a path of the server (media URLs are paths on the server's origin). */
  resolveUrl(path: string): string {
    return this.transport.resolveUrl(path);
  }

  // ---------- events ----------

  on<K extends keyof T.ClientEventMap>(type: K, handler: (payload: T.ClientEventMap[K]) => void): () => void;
  on(type: string, handler: (payload: any) => void): () => void;
  on(type: string, handler: (payload: any) => void): () => void {
    return this.events.on(type, handler);
  }

  // ---------- requests ----------

  /**
   * Any API request, JSON in and out, on the request lane. Throws ApiError: the server's
   * {error: {code, message}} with its status, or status 0 / code 'network' when no answer came.
   * A 401 ends the session and emits 'auth'.
   */
  api<R>(method: string, path: string, body?: unknown): Promise<R> {
    return this.transport.request<R>(method.toUpperCase(), path, body);
  }

  // ---------- session ----------

  /**
   * Logs in; with `remember` the token is kept in storage for restore(). `client` (installed apps
   * only: install id, version, platform) registers this terminal on the server.
   */
  login(username: string, password: string, remember = false, client?: T.LoginClientInfo): Promise<T.User> {
    return this.session.login(username, password, remember, client);
  }

  /** Whether the server offers single sign-on, and the name to show ("Sign in with <name>"). */
  ssoInfo(): Promise<{ enabled: boolean; name?: string | undefined }> {
    return this.transport.call(ENDPOINTS.ssoInfo, [], { token: null });
  }

  /** Where a browser starts single sign-on (the server answers 302 to the provider). */
  ssoStartUrl(query?: URLSearchParams): string {
    return `${this.baseUrl}/api/v1/sso/start${query?.size ? `?${query}` : ''}`;
  }

  /** Single sign-on's last step: the one-time code from the callback for a session (see login for `remember`, `client`). */
  ssoSignIn(code: string, remember = false, client?: T.LoginClientInfo, verifier?: string): Promise<T.User> {
    return this.session.ssoExchange(code, remember, client, verifier);
  }

  /**
   * The remembered session, checked with GET /me. Undefined when none is stored or the server no
   * longer accepts it. When the server cannot be reached, the remembered user is answered anyway
   * (an offline start: the event loop and the outbox go on trying; 'auth' fires if the token
   * turns out expired).
   */
  restore(): Promise<T.User | undefined> {
    return this.session.restore();
  }

  /**
   * Logs out: ends the session on the server (best effort) and forgets it here, with this user's
   * cursor and outbox (unsent messages are dropped: check outbox() first). The event loop, if
   * started, waits for the next login.
   */
  logout(): Promise<void> {
    return this.session.logout();
  }

  /**
   * Knocks on a meeting as a guest (no account) and makes the answer this client's session: the
   * token is remembered in this client's storage (give the guest page sessionStorage), the event
   * loop starts from the knock's cursor, so nothing meant for the guest is missed.
   */
  async knockAs(number: string, name: string): Promise<T.User> {
    const answer = await this.transport.call(E.knock, [number, name], { token: null });
    const user: T.User = { id: -answer.guest.id, username: `guest-${answer.guest.id}`, displayName: name };
    this.store.set(this.store.key('cursor', user.username), answer.cursor);
    this.session.beginGuest(answer.guest.token, user);
    return user;
  }

  /** The guest session of this tab (knockAs), if any; the server is not asked. */
  restoreGuest(): T.User | undefined {
    return this.session.restoreGuest();
  }

  // ---------- the event loop ----------

  /** Starts the event loop and the outbox sender (they wait for a login if there is no session yet). */
  start(): void {
    if (this.loop.started) return;
    this.loop.start();
    this.sender.kick();
  }

  /** Stops the event loop (the held poll is aborted) and the outbox sender. api() still works. */
  stop(): void {
    if (!this.loop.started) return;
    this.loop.stop();
    this.sender.wake();
  }

  /** Resolves when the event loop has ended after stop(). */
  stopped(): Promise<void> {
    return this.loop.stopped();
  }

  /**
   * Poll again now, without waiting out a backoff or an interval (after a resume from sleep, a
   * click on "retry", ...); also retries the outbox at once.
   */
  pollNow(): void {
    this.loop.pollNow();
    this.sender.kick(true);
  }

  /** The network changed (another Wi-Fi, VPN up, resume): forget what auto mode learned, poll now. */
  networkChanged(): void {
    this.loop.relearn();
    this.pollNow();
  }

  /** Chooses long polling, interval polling, or 'auto' (long, interval while held polls get cut). Applies at once. */
  setMode(mode: PollMode | 'auto'): void {
    this.loop.setMode(mode);
  }

  // ---------- the outbox ----------

  /**
   * Queues a message: answered at once with its entry (state 'sending', a new client id), kept in
   * storage until the server has it, sent in order once the client is started.
   */
  send(chatId: string, text: string, files?: Array<{ id: string; name: string }>): OutboxEntry {
    return this.sender.send(chatId, text, files);
  }

  /** Sends a failed entry again (same client id); for one still sending, tries at once. */
  retry(clientId: string): void {
    this.sender.retry(clientId);
  }

  /** Drops a failed (or sent) entry; answers whether it did. An entry still sending cannot be taken back. */
  discard(clientId: string): boolean {
    return this.sender.discard(clientId);
  }

  /** The outbox, oldest first (copies): unsent, failed, and the recently sent. */
  outbox(chatId?: string): OutboxEntry[] {
    return this.sender.list(chatId);
  }

  // ---------- the API, call by call (endpoints.ts) ----------

  me(): Promise<T.Me> {
    return this.transport.call(E.me, []);
  }
  contacts(): Promise<T.Contact[]> {
    return this.transport.call(E.contacts, []);
  }
  /** Changes my name, status message, do-not-disturb or mentions-while-busy; my other devices get me.updated. */
  updateMe(change: T.MeChange): Promise<T.Me> {
    return this.transport.call(E.updateMe, [change]);
  }
  /** A wrong old password is ApiError 403 wrong_password (429 after too many); my other sessions end. */
  changePassword(oldPassword: string, newPassword: string): Promise<void> {
    return this.transport.call(E.changePassword, [oldPassword, newPassword]);
  }
  /** Uploads my picture (PNG, JPEG, WebP or GIF, at most 5 MiB); the server stores a square copy. */
  async setAvatar(picture: Blob): Promise<T.Me> {
    const res = await this.transport.binary('/api/v1/me/avatar', { method: 'PUT', body: picture });
    return ((await res.json()) as { user: T.Me }).user;
  }
  removeAvatar(): Promise<T.Me> {
    return this.transport.call(E.removeAvatar, []);
  }
  /** Mutes a chat for me (until `until`, ISO, or until unmuted) or unmutes it; my other devices get chat.muted. */
  muteChat(chatId: string, muted: boolean, until?: string): Promise<T.ChatMute> {
    return this.transport.call(E.muteChat, [chatId, muted, until]);
  }
  searchUsers(q: string): Promise<T.FoundUser[]> {
    return this.transport.call(E.searchUsers, [q]);
  }
  addContact(username: string): Promise<T.Contact> {
    return this.transport.call(E.addContact, [username]);
  }
  removeContact(username: string): Promise<void> {
    return this.transport.call(E.removeContact, [username]);
  }
  setPresence(state: T.PresenceState): Promise<T.PresenceView> {
    return this.transport.call(E.setPresence, [state]);
  }
  chats(): Promise<T.Chat[]> {
    return this.transport.call(E.chats, []);
  }
  chat(id: string): Promise<T.Chat> {
    return this.transport.call(E.chat, [id]);
  }
  createChat(invitees: string[]): Promise<T.Chat> {
    return this.transport.call(E.createChat, [invitees]);
  }
  accept(id: string): Promise<T.Chat> {
    return this.transport.call(E.accept, [id]);
  }
  decline(id: string): Promise<T.Chat> {
    return this.transport.call(E.decline, [id]);
  }
  leave(id: string): Promise<T.Chat> {
    return this.transport.call(E.leave, [id]);
  }
  /** Edits your own message (by its client id); arrives to the others as chat.message.edited. */
  editMessage(chatId: string, clientId: string, text: string): Promise<T.Message> {
    return this.transport.call(E.editMessage, [chatId, clientId, text]);
  }
  /** Deletes your own message (by its client id): its place stays, `deleted: true`, no text. */
  deleteMessage(chatId: string, clientId: string): Promise<T.Message> {
    return this.transport.call(E.deleteMessage, [chatId, clientId]);
  }
  /** Reacts to a message (by its server id); answers the message with its reactions. */
  react(chatId: string, messageId: number, emoji: string): Promise<T.Message> {
    return this.transport.call(E.react, [chatId, messageId, emoji]);
  }
  /** Takes back your reaction. */
  unreact(chatId: string, messageId: number, emoji: string): Promise<T.Message> {
    return this.transport.call(E.unreact, [chatId, messageId, emoji]);
  }
  /** Marks the chat read up to this message (the mark never moves back); answers the mark and what is still unread. */
  markRead(chatId: string, upTo: number): Promise<T.ReadState> {
    return this.transport.call(E.markRead, [chatId, upTo]);
  }
  /** Tells the others you are typing (chat.typing to their held polls); the server relays one per 2 s. */
  typing(chatId: string): Promise<void> {
    return this.transport.call(E.typing, [chatId]);
  }
  /** A page of history, oldest first; pass the answer's `before` for the page before it. */
  history(chatId: string, before?: number, limit?: number): Promise<T.History> {
    return this.transport.call(E.history, [chatId, before, limit]);
  }
  /**
   * Sends a message now (not through the outbox): text, files (ids from uploadFile) or both. The
   * same `clientId` again is a safe retry: the stored message comes back, nothing is attached twice.
   */
  putMessage(chatId: string, clientId: string, text: string, files?: string[]): Promise<T.Message> {
    return this.transport.call(E.putMessage, [chatId, clientId, text, files]);
  }
  /**
   * Uploads a file to a chat (members taking part only), outside the request lane so messages do
   * not wait behind it; `onProgress(sent, total)` follows the bytes. Answers the file, to send
   * with putMessage. 413 body_too_large past the server's limit (PORTICO_CHAT_FILE_MB).
   */
  async uploadFile(chatId: string, file: Blob, name: string, onProgress?: UploadProgress, signal?: AbortSignal): Promise<T.ChatFile> {
    const answer = await this.transport.upload<{ file: T.ChatFile }>(chatFileUploadPath(chatId, name), file, onProgress, signal);
    return answer.file;
  }
  /** Searches the messages of my chats (or of one): every term of `q` must occur; pass the answer's `before` for older hits. */
  searchMessages(q: string, options: { chat?: string; before?: number; limit?: number } = {}): Promise<T.SearchResults> {
    return this.transport.call(E.searchMessages, [q, options.chat, options.before, options.limit]);
  }
  ticker(): Promise<T.TickerView> {
    return this.transport.call(E.ticker, []);
  }
  /** Live media items; their `url` is a path: use resolveUrl(). */
  media(): Promise<T.MediaItem[]> {
    return this.transport.call(E.media, []);
  }
  notices(): Promise<T.Notice[]> {
    return this.transport.call(E.notices, []);
  }
  charts(channel?: string, series?: string): Promise<T.ChartSeries[]> {
    return this.transport.call(E.charts, [channel, series]);
  }
  links(): Promise<T.LinksView> {
    return this.transport.call(E.links, []);
  }
  channels(): Promise<T.ChannelsView> {
    return this.transport.call(E.channels, []);
  }
  setMyChannels(names: string[]): Promise<T.ChannelsView> {
    return this.transport.call(E.setMyChannels, [names]);
  }
  /** Rings the chat's other members (409 callee_offline / callee_busy when nobody can answer). */
  startCall(chatId: string, video = true): Promise<T.Call> {
    return this.transport.call(E.startCall, [chatId, video]);
  }
  getCall(id: string): Promise<T.Call> {
    return this.transport.call(E.getCall, [id]);
  }
  acceptCall(id: string): Promise<T.Call> {
    return this.transport.call(E.acceptCall, [id]);
  }
  declineCall(id: string): Promise<T.Call> {
    return this.transport.call(E.declineCall, [id]);
  }
  hangUp(id: string): Promise<T.Call> {
    return this.transport.call(E.hangUp, [id]);
  }
  /** Joins or rejoins a call running in one of my chats (issue 18). */
  joinCall(id: string): Promise<T.Call> {
    return this.transport.call(E.joinCall, [id]);
  }
  holdCall(id: string): Promise<T.Call> {
    return this.transport.call(E.holdCall, [id]);
  }
  resumeCall(id: string): Promise<T.Call> {
    return this.transport.call(E.resumeCall, [id]);
  }
  /** Hands a call of two to a colleague, who is rung with my name and the reason. */
  transferCall(id: string, to: string, reason?: string, warm?: boolean): Promise<T.Call> {
    return this.transport.call(E.transferCall, [id, to, reason, warm]);
  }
  /** Invites people into a chat (each gets a chat request). */
  /** A group chat's history sharing: what people added later read (issue 18). */
  updateChat(chatId: string, history: T.Chat['history']): Promise<T.Chat> {
    return this.transport.call(E.updateChat, [chatId, history]);
  }

  /** Rings members of the call's chat who are not in it (issue 18). */
  ringCall(id: string, usernames: string[]): Promise<T.Call> {
    return this.transport.call(E.ringCall, [id, usernames]);
  }

  addChatMembers(chatId: string, usernames: string[]): Promise<T.Chat> {
    return this.transport.call(E.addChatMembers, [chatId, usernames]);
  }
  /** Offer, answer, ICE candidate or media path, to one other member (arrives as their call.signal event). */
  sendSignal(id: string, to: string, signal: T.CallSignal): Promise<void> {
    return this.transport.call(E.sendSignal, [id, to, signal]);
  }
  /** STUN/TURN servers with short-lived TURN credentials, and the site's media path policy. */
  iceServers(): Promise<T.IceServers> {
    return this.transport.call(E.iceServers, []);
  }

  // ---------- meetings with guests (issue 19) ----------

  /** A new meeting: a fresh number, or (fixed) my own stable one. */
  createMeeting(title?: string, fixed?: boolean): Promise<T.Meeting> {
    return this.transport.call(E.createMeeting, [title, fixed]);
  }
  meetings(): Promise<T.Meeting[]> {
    return this.transport.call(E.meetings, []);
  }
  endMeeting(id: string): Promise<void> {
    return this.transport.call(E.endMeeting, [id]);
  }
  admitGuest(meetingId: string, guestId: number): Promise<T.MeetingGuest> {
    return this.transport.call(E.admitGuest, [meetingId, guestId]);
  }
  rejectGuest(meetingId: string, guestId: number): Promise<T.MeetingGuest> {
    return this.transport.call(E.rejectGuest, [meetingId, guestId]);
  }
  meetingDocuments(meetingId: string): Promise<T.MeetingDocument[]> {
    return this.transport.call(E.meetingDocuments, [meetingId]);
  }
  /** Uploads a PDF, PNG or JPEG to show (outside the request lane); a PDF comes back as one image per page. */
  async uploadMeetingDocument(meetingId: string, file: Blob, name?: string): Promise<T.MeetingDocument> {
    const answer = await this.transport.upload<{ document: T.MeetingDocument }>(meetingDocumentPath(meetingId, name), file);
    return answer.document;
  }
  /** Shows this page (1 is the first) to everyone in the meeting. */
  present(meetingId: string, documentId: string, page: number): Promise<unknown> {
    return this.transport.call(E.present, [meetingId, documentId, page]);
  }
  /** My pointer on the page shown, in fractions of the page (at most 10 a second). */
  pointer(meetingId: string, x: number, y: number): Promise<void> {
    return this.transport.call(E.pointer, [meetingId, x, y]);
  }

  /**
   * A binary request of a call's HTTP relay (electron/renderer/src/calls/relay-media.ts), outside
   * the request lane: media must neither wait behind messages nor hold them up. The caller keeps
   * to one upload and one download at a time. Failures throw ApiError like api().
   */
  relayFetch(path: string, init: BinaryInit): Promise<Response> {
    return this.transport.binary(path, init);
  }
}
