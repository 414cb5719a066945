/**
 * The panel's state and what changes it: the last known state from the cache at once, then loaded
 * from the API (at once when the event loop resumes from a stored cursor, in parallel with its
 * first poll; else when the loop is ready; again after a reset), then kept current by the
 * client's events. Views read a snapshot with usePanel() and call the model's methods; nothing
 * here touches the DOM.
 */
import { useEffect, useState } from 'preact/hooks';
import { mentions, notifyDecision, type Call, type ChannelsView, type Chat, type ChartSeries, type ChatMute, type Contact, type ConnectionState, type MediaItem, type Me, type MeChange, type PublicUser, type Notice, type PollMode, type PresenceState, type PorticoClient, type TickerItem, type User } from './api/index.js';
import { callerName, Phone } from './calls/manager.js';
import { joinNames, t } from './i18n.js';
import { notificationRoute } from './notification-route.js';
import { dropPanelCache, readPanelCache, writePanelCache } from './panel-cache.js';
import { dndChanged, notify, onNotificationAction, onPollNow, onPresenceSuggestion, openChatWindow, presenceChanged, setBadge } from './platform.js';

export interface Toast {
  id: number;
  text: string;
  kind: 'info' | 'error';
}

export interface PanelState {
  me: Me | undefined;
  presence: PresenceState;
  contacts: Contact[];
  chats: Record<string, Chat>;
  unread: Record<string, number>;
  ticker: TickerItem[];
  media: MediaItem[];
  notices: Notice[];
  charts: ChartSeries[];
  links: string;
  connection: ConnectionState;
  mode: PollMode;
  toasts: Toast[];
  /** The chat shown over the panel (browser; Electron opens chat windows instead). */
  openChat: string | undefined;
  /** A message to bring into view in the open chat (a search result chosen), with a counter so choosing it again scrolls again. */
  focus: { chatId: string; messageId: number; seq: number } | undefined;
  /** The server's state is in (until then the views show the cache, or a loading state). */
  loaded: boolean;
  /** What is shown came from the cache of the last session and is being refreshed. */
  cached: boolean;
  /** The ticker's channels and my choice, once asked for (the ticker settings). */
  channels: ChannelsView | undefined;
  /** The ticker's channels in the order chosen (GET /ticker's `channels`). */
  tickerChannels: string[];
}

const CHART_POINTS_KEPT = 2000;

/** chat.accepted / chat.declined / chat.left (typed by hand: the shared union types these as never). */
interface MemberEvent {
  username: string;
  chat: Chat;
}

export class PanelModel {
  state: PanelState;
  private readonly listeners = new Set<() => void>();
  private readonly offs: Array<() => void> = [];
  private toastId = 0;
  /** Chats a window is showing right now (focused), as told by chat windows. */
  private readonly viewing = new Set<string>();
  private loading: Promise<void> | undefined;
  /** Bumped by each contact-list reload, so an older answer arriving late is dropped. */
  private contactsReloads = 0;
  private cacheTimer: ReturnType<typeof setTimeout> | undefined;
  /** Signed out: nothing is written to the cache any more. */
  private cacheOff = false;
  /**
   * Changes that arrived by event while load() was fetching its snapshots: a snapshot may be
   * older than them, so they are laid over it again once it is in.
   */
  private arrivedDuringLoad: { presence: Map<string, PresenceState>; chats: Map<string, Chat> } | undefined;

  /** Calls: the one going on and those ringing for me (calls/manager.ts). */
  readonly phone: Phone;

  constructor(readonly client: PorticoClient) {
    this.phone = new Phone(client, {
      toast: (text, kind) => this.toast(text, kind),
      text: (key, vars) => t(key, vars),
      error: (error) => this.error(error),
      ring: (call) =>
        notify({
          title: t('incomingCall'),
          body: t('incomingCallFrom', { name: callerName(call, this.username) }),
          tag: `call-${call.id}`,
          actions: ['accept', 'decline'],
        }),
      ringOver: () => {},
    });
    // A call shows in the media area: a chat over the panel (browser) makes way for it.
    let shown: string | undefined;
    this.phone.subscribe(() => {
      const current = this.phone.state.current;
      if (current && current.call.id !== shown && this.state.openChat) this.closeChat();
      shown = current?.call.id;
    });
    this.state = {
      me: undefined,
      presence: 'available',
      contacts: [],
      chats: {},
      unread: {},
      ticker: [],
      media: [],
      notices: [],
      charts: [],
      links: '',
      connection: client.connection,
      mode: client.mode,
      toasts: [],
      openChat: undefined,
      focus: undefined,
      loaded: false,
      cached: false,
      channels: undefined,
      tickerChannels: [],
    };
  }

  get username(): string {
    return this.client.user?.username ?? '';
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private set(patch: Partial<PanelState>) {
    this.state = { ...this.state, ...patch };
    for (const listener of [...this.listeners]) listener();
    if ('me' in patch) dndChanged(this.state.me?.dndUntil ?? null);
    if ('unread' in patch) setBadge(Object.values(this.state.unread).reduce((a, b) => a + b, 0));
    if (this.state.loaded) this.saveSoon();
  }

  /** The last known state of this user, shown until the server's is in. */
  private restoreCache() {
    const cached = readPanelCache(this.username);
    if (!cached || this.state.loaded) return;
    this.set({
      me: cached.me,
      presence: cached.me.presence,
      contacts: cached.contacts,
      chats: cached.chats,
      ticker: cached.ticker,
      media: cached.media,
      notices: cached.notices,
      charts: cached.charts,
      links: cached.links,
      cached: true,
    });
  }

  private saveSoon() {
    if (this.cacheOff || this.cacheTimer) return;
    this.cacheTimer = setTimeout(() => {
      this.cacheTimer = undefined;
      if (this.cacheOff || !this.state.me) return;
      const { me, contacts, chats, ticker, media, notices, charts, links } = this.state;
      writePanelCache({ user: this.username, me, contacts, chats, ticker, media, notices, charts, links });
    }, 1000);
  }

  /** Sign-out: this user's cached panel goes, and nothing more is written. */
  forgetCache() {
    this.cacheOff = true;
    clearTimeout(this.cacheTimer);
    this.cacheTimer = undefined;
    dropPanelCache(this.username);
  }

  /** Wires the client's events and starts the event loop. */
  attach() {
    const c = this.client;
    this.offs.push(
      // Resumed from a stored cursor, the loop replays what happened since, so the snapshots loaded
      // at attach() stay right; from the head (no cursor), only snapshots taken now are.
      c.on('ready', (e) => {
        if (!e.resumed || !this.state.loaded) void this.load();
      }),
      c.on('reset', () => void this.load()),
      c.on('connection', ({ state, mode }) => {
        this.set({ connection: state, mode });
        if (state === 'online' && !this.state.loaded && !this.loading) void this.load();
      }),
      c.on('presence', (e) => {
        if (e.username.toLowerCase() === this.username.toLowerCase()) {
          this.set({ presence: e.state });
          return;
        }
        this.arrivedDuringLoad?.presence.set(e.username, e.state);
        this.set({ contacts: this.state.contacts.map((x) => (x.username === e.username ? { ...x, presence: e.state } : x)) });
      }),
      c.on('chat.request', (e) => {
        this.putChat(e.chat);
        if (e.from.toLowerCase() === this.username.toLowerCase()) return;
        notify({
          title: t('chatRequest'),
          body: this.requestText(e.chat),
          tag: `chat-request-${e.chat.id}`,
          actions: ['accept', 'decline'],
        });
      }),
      c.on('chat.accepted', (e: MemberEvent) => {
        const before = this.state.chats[e.chat.id];
        this.putChat(e.chat);
        const mine = e.username.toLowerCase() === this.username.toLowerCase();
        // The requester's side: the chat window opens when the first invitee accepts.
        if (!mine && e.chat.state === 'active' && before?.state !== 'active' && e.chat.createdBy.toLowerCase() === this.username.toLowerCase()) {
          this.openChat(e.chat.id);
        }
      }),
      c.on('chat.declined', (e: MemberEvent) => {
        this.putChat(e.chat);
        if (e.username.toLowerCase() !== this.username.toLowerCase()) this.toast(t('declined', { name: this.nameIn(e.chat, e.username) }));
      }),
      c.on('chat.left', (e: MemberEvent) => {
        this.putChat(e.chat);
      }),
      c.on('chat.closed', (e: { chat: Chat }) => this.putChat(e.chat)),
      c.on('chat.added', (e: { chat: Chat }) => this.putChat(e.chat)),
      // A chat's settings (its history sharing, issue 18).
      c.on('chat.updated', (e: { chat: Chat }) => this.putChat(e.chat)),
      // A call in one of my chats started, changed or ended (issue 18): "Call in progress — Join".
      c.on('chat.call', (e: { chatId: string; call: Call }) => {
        if (e.call.state === 'ended') this.liveCalls.delete(e.chatId);
        else this.liveCalls.set(e.chatId, e.call);
        const chat = this.state.chats[e.chatId];
        if (chat) this.putChat(chat);
      }),
      c.on('chat.message', (e) => {
        const m = e.message;
        // The newest message of a chat (a request card's preview); copies of one message come by id.
        const known = this.state.chats[m.chatId];
        if (known && (known.lastMessage?.id ?? 0) < m.id) this.putChat({ ...known, lastMessage: m });
        else if (known?.lastMessage?.id === m.id) return;
        if (m.from.toLowerCase() === this.username.toLowerCase()) return;
        if (this.isShown(m.chatId)) return;
        this.set({ unread: { ...this.state.unread, [m.chatId]: (this.state.unread[m.chatId] ?? 0) + 1 } });
        const chat = this.state.chats[m.chatId];
        // Busy, do-not-disturb and muted chats (kept on the server, issue 17): silent and none are counted, not shown.
        const me = this.state.me;
        const decision = me
          ? notifyDecision({ ...me, presence: this.state.presence, chat: this.mutes.get(m.chatId), mentionsMe: mentions(m.text, this.username) })
          : 'show';
        if (decision !== 'show') return;
        const avatar = chat?.members.find((x) => x.username === m.from)?.avatarUrl;
        notify({
          title: t('newMessageFrom', { name: chat ? this.nameIn(chat, m.from) : m.from }),
          ...(avatar ? { icon: this.client.resolveUrl(avatar) } : {}),
          body: m.text.slice(0, 200),
          tag: `chat-${m.chatId}`,
          onClick: () => this.openChat(m.chatId),
        });
      }),
      // My read mark moved (here or on another device): what was unread there is read.
      c.on('chat.read', (e) => {
        if (e.username.toLowerCase() !== this.username.toLowerCase() || !this.state.unread[e.chatId]) return;
        const unread = { ...this.state.unread };
        delete unread[e.chatId];
        this.set({ unread });
      }),
      c.on('ticker.item', (e) => {
        const { type: _type, cursor: _cursor, at: _at, ...item } = e;
        this.set({ ticker: [item, ...this.state.ticker.filter((x) => x.id !== item.id)] });
      }),
      c.on('media.item', (e) => this.set({ media: [e.item, ...this.state.media.filter((x) => x.id !== e.item.id)] })),
      c.on('notice.item', (e) => this.set({ notices: [e.notice, ...this.state.notices.filter((x) => x.id !== e.notice.id)] })),
      c.on('chart.points', (e) => this.addPoints(e.channel, e.series, e.unit, e.points)),
      c.on('links.changed', (e) => this.set({ links: e.html })),
      // An admin (or this user elsewhere) added or removed a contact or a group member.
      c.on('contacts.changed', () => void this.reloadContacts()),
      // A contact's name, picture or status changed; my own settings changed on another device; I muted a chat there.
      c.on('user.updated', (e) => this.mergeUser(e.user)),
      c.on('me.updated', (e) => this.set({ me: e.user })),
      c.on('chat.muted', (e) => this.putMute(e.mute)),
      onNotificationAction((e) => {
        const route = notificationRoute(e);
        if (route?.kind === 'call') void (route.answer === 'accept' ? this.acceptCall(route.callId) : this.phone.decline(route.callId));
        else if (route?.kind === 'request') void (route.answer === 'accept' ? this.accept(route.chatId) : this.decline(route.chatId));
        else if (route?.kind === 'open-chat') this.openChat(route.chatId);
      }),
      onPresenceSuggestion(({ state }) => void this.setPresence(state, false)),
      onPollNow(() => this.client.pollNow()),
    );
    this.phone.attach();
    this.restoreCache();
    const resuming = c.cursor !== undefined;
    c.start();
    if (resuming) void this.load();
  }

  detach() {
    this.phone.detach();
    for (const off of this.offs.splice(0)) off();
    this.client.stop();
  }

  /** Everything the panel shows, from the state endpoints. */
  load(): Promise<void> {
    this.loading ??= (async () => {
      const c = this.client;
      try {
        const arrived = (this.arrivedDuringLoad = { presence: new Map(), chats: new Map() });
        const [me, contacts, chats] = await Promise.all([c.me(), c.contacts(), c.chats()]);
        this.arrivedDuringLoad = undefined;
        this.mutes = new Map(chats.map((x) => [x.id, { chatId: x.id, muted: x.muted === true, ...(x.mutedUntil ? { mutedUntil: x.mutedUntil } : {}) }]));
        this.liveCalls = new Map(chats.flatMap((x): Array<[string, Call]> => (x.call ? [[x.id, x.call]] : [])));
        // Unread counts are the server's (they survive a reload), less the chats shown right now.
        const unread = Object.fromEntries(chats.filter((x) => (x.unread ?? 0) > 0 && !this.isShown(x.id)).map((x) => [x.id, x.unread!]));
        this.set({
          me,
          unread,
          presence: me.presence,
          contacts: contacts.map((x) => (arrived.presence.has(x.username) ? { ...x, presence: arrived.presence.get(x.username)! } : x)),
          chats: { ...Object.fromEntries(chats.map((x) => [x.id, x])), ...Object.fromEntries(arrived.chats) },
        });
        presenceChanged(me.presence, false);
        const [ticker, media, notices, charts, links] = await Promise.all([c.ticker(), c.media(), c.notices(), c.charts(), c.links()]);
        this.set({ ticker: ticker.items, tickerChannels: ticker.channels, media, notices, charts, links: links.html, loaded: true, cached: false });
      } catch (error) {
        // Unreachable: the offline banner says so, and the load is tried again once online.
        if ((error as { code?: unknown })?.code !== 'network') this.error(error);
      } finally {
        this.loading = undefined;
      }
    })();
    return this.loading;
  }

  /** The contact list again (the newest reload wins when several overlap). */
  private async reloadContacts() {
    const mine = ++this.contactsReloads;
    try {
      const contacts = await this.client.contacts();
      if (mine === this.contactsReloads) this.set({ contacts });
    } catch (error) {
      this.error(error);
    }
  }

  // ---------- what the views call ----------

  /** Name, status, do-not-disturb or the mentions setting (PATCH /me; my other devices follow by me.updated). Answers the error, if any. */
  async updateMe(change: MeChange): Promise<unknown> {
    try {
      this.set({ me: await this.client.updateMe(change) });
      return undefined;
    } catch (error) {
      return error;
    }
  }

  /** Uploads (a Blob) or removes (null) my picture; answers the error, if any. */
  async setAvatar(picture: Blob | null): Promise<unknown> {
    try {
      this.set({ me: picture ? await this.client.setAvatar(picture) : await this.client.removeAvatar() });
      return undefined;
    } catch (error) {
      return error;
    }
  }

  /** Answers the error, if any (403 wrong_password: the old one is wrong). */
  async changePassword(oldPassword: string, newPassword: string): Promise<unknown> {
    try {
      await this.client.changePassword(oldPassword, newPassword);
      return undefined;
    } catch (error) {
      return error;
    }
  }

  async muteChat(chatId: string, muted: boolean, until?: string): Promise<void> {
    try {
      this.putMute(await this.client.muteChat(chatId, muted, until));
    } catch (error) {
      this.error(error);
    }
  }

  /** The directory: users whose name or display name matches. */
  searchUsers(q: string): Promise<User[]> {
    return this.client.searchUsers(q);
  }

  async addContact(username: string): Promise<boolean> {
    try {
      const contact = await this.client.addContact(username);
      this.contactsReloads++; // an older reload in flight must not drop it
      this.set({ contacts: [...this.state.contacts.filter((x) => x.username !== contact.username), contact] });
      this.toast(t('contactAdded', { name: contact.displayName }));
      return true;
    } catch (error) {
      this.error(error);
      return false;
    }
  }

  async removeContact(username: string): Promise<void> {
    const contact = this.state.contacts.find((x) => x.username === username);
    try {
      await this.client.removeContact(username);
      this.toast(t('contactRemoved', { name: contact?.displayName ?? username }));
      await this.reloadContacts();
    } catch (error) {
      this.error(error);
    }
  }

  async loadChannels(): Promise<void> {
    try {
      this.set({ channels: await this.client.channels() });
    } catch (error) {
      this.error(error);
    }
  }

  /** My ticker channels, in order (none: the defaults); the ticker is loaded again for them. */
  async setChannels(names: string[]): Promise<boolean> {
    try {
      this.set({ channels: await this.client.setMyChannels(names) });
      const ticker = await this.client.ticker();
      this.set({ ticker: ticker.items, tickerChannels: ticker.channels });
      return true;
    } catch (error) {
      this.error(error);
      return false;
    }
  }

  async setPresence(state: PresenceState, byUser = true) {
    const previous = this.state.presence;
    this.set({ presence: state });
    try {
      await this.client.setPresence(state);
      presenceChanged(state, byUser);
    } catch (error) {
      this.set({ presence: previous });
      this.error(error);
    }
  }

  async requestChat(usernames: string[]) {
    // One person with whom a chat is going on already: open that one instead of asking again.
    if (usernames.length === 1) {
      const me = this.username.toLowerCase();
      const other = usernames[0]!.toLowerCase();
      const existing = Object.values(this.state.chats).find(
        (chat) =>
          chat.state === 'active' &&
          chat.members.length === 2 &&
          chat.members.every((m) => m.status === 'accepted' && (m.username.toLowerCase() === me || m.username.toLowerCase() === other)),
      );
      if (existing) {
        this.openChat(existing.id);
        return true;
      }
    }
    try {
      const chat = await this.client.createChat(usernames);
      this.putChat(chat);
      const names = usernames.map((u) => this.state.contacts.find((x) => x.username === u)?.displayName ?? u);
      this.toast(t('requestSent', { names: joinNames(names) }));
      return true;
    } catch (error) {
      this.error(error);
      return false;
    }
  }

  async accept(chatId: string) {
    try {
      this.putChat(await this.client.accept(chatId));
      this.openChat(chatId);
    } catch (error) {
      this.error(error);
    }
  }

  async decline(chatId: string) {
    try {
      this.putChat(await this.client.decline(chatId));
    } catch (error) {
      this.error(error);
    }
  }

  async leave(chatId: string) {
    try {
      this.putChat(await this.client.leave(chatId));
    } catch (error) {
      this.error(error);
    }
    if (this.state.openChat === chatId) this.set({ openChat: undefined });
  }

  /**
   * Calls the chat's others; the call shows in the panel's media area. Answers why it could not
   * start (callee offline or busy...), also shown as a toast, for the chat view to show too.
   */
  async startCall(chatId: string, video = true): Promise<string | undefined> {
    const chat = this.state.chats[chatId];
    const names = chat ? joinNames(this.othersIn(chat)) : '';
    try {
      await this.phone.start(chatId, video);
      return undefined;
    } catch (error) {
      const code = (error as { code?: unknown })?.code;
      const text =
        code === 'callee_offline'
          ? t('calleeOffline', { names })
          : code === 'callee_busy'
            ? t('calleeBusy', { names })
            : code === 'call_in_progress'
              ? t('callInProgress')
              : t('error', { message: error instanceof Error ? error.message : String(error) });
      this.toast(text, 'error');
      return text;
    }
  }

  async acceptCall(callId: string) {
    await this.phone.accept(callId);
  }

  /** Joins the call running in a chat (issue 18); answers why not, also shown as a toast. */
  async joinCall(chatId: string): Promise<string | undefined> {
    const call = this.liveCalls.get(chatId) ?? (await this.client.chat(chatId).catch(() => undefined))?.call;
    if (!call) return undefined;
    await this.phone.join(call);
    return undefined;
  }

  /**
   * Adds people to the call going on in a chat (issue 18): those taking part in the chat are rung
   * now; others are invited into the chat (each gets a chat request) and rung when they accept.
   * Answers why not, also shown as a toast.
   */
  async addPeople(chatId: string, usernames: string[], history?: Chat['history']): Promise<string | undefined> {
    const chat = this.state.chats[chatId];
    const taking = new Set(chat?.members.filter((m) => m.status === 'accepted').map((m) => m.username.toLowerCase()) ?? []);
    const ring = usernames.filter((u) => taking.has(u.toLowerCase()));
    const invite = usernames.filter((u) => !taking.has(u.toLowerCase()));
    const nameOf = (u: string) => chat?.members.find((m) => m.username === u)?.displayName ?? this.state.contacts.find((c) => c.username === u)?.displayName ?? u;
    // What those invited read: set before they are added in a group chat; a 1:1 chat becomes a group by the add (the setting is a group's).
    const setHistory = async () => {
      if (history && history !== this.state.chats[chatId]?.history) this.putChat(await this.client.updateChat(chatId, history));
    };
    const group = (chat?.members.length ?? 0) > 2;
    try {
      if (group) await setHistory();
      if (invite.length > 0) {
        this.putChat(await this.client.addChatMembers(chatId, invite));
        this.toast(t('addPeopleDone', { names: joinNames(invite.map(nameOf)) }), 'info');
        if (!group) await setHistory();
      }
      if (ring.length > 0 && this.phone.state.current?.call.chatId === chatId) {
        await this.phone.ring(ring);
        this.toast(t('ringingPeople', { names: joinNames(ring.map(nameOf)) }), 'info');
      }
      return undefined;
    } catch (error) {
      const text = t('error', { message: error instanceof Error ? error.message : String(error) });
      this.toast(text, 'error');
      return text;
    }
  }

  openChat(chatId: string, messageId?: number) {
    const unread = { ...this.state.unread };
    delete unread[chatId];
    const focus = messageId === undefined ? undefined : { chatId, messageId, seq: (this.state.focus?.seq ?? 0) + 1 };
    if (openChatWindow(chatId)) this.set({ unread });
    else this.set({ unread, openChat: chatId, focus });
  }

  closeChat() {
    this.set({ openChat: undefined });
  }

  /** A chat is on screen now (a focused chat window, or the chat over the visible panel). */
  private isShown(chatId: string): boolean {
    return this.viewing.has(chatId) || (this.state.openChat === chatId && document.visibilityState === 'visible');
  }

  /** A chat window tells whether it shows a chat right now (messages there are not unread). */
  setViewing(chatId: string, active: boolean) {
    if (active) {
      this.viewing.add(chatId);
      if (this.state.unread[chatId]) {
        const unread = { ...this.state.unread };
        delete unread[chatId];
        this.set({ unread });
      }
    } else this.viewing.delete(chatId);
  }

  toast(text: string, kind: Toast['kind'] = 'info') {
    const toast = { id: ++this.toastId, text, kind };
    this.set({ toasts: [...this.state.toasts, toast].slice(-4) });
    setTimeout(() => this.dismiss(toast.id), kind === 'error' ? 10_000 : 6_000);
  }

  dismiss(id: number) {
    if (this.state.toasts.some((x) => x.id === id)) this.set({ toasts: this.state.toasts.filter((x) => x.id !== id) });
  }

  error(error: unknown) {
    const message = error instanceof Error ? error.message : String(error);
    this.toast(t('error', { message }), 'error');
  }

  // ---------- helpers ----------

  /** Incoming requests waiting for my answer: new chats, and chats running that someone added me to (issue 18). */
  get requests(): Chat[] {
    const me = this.username.toLowerCase();
    return Object.values(this.state.chats).filter(
      (chat) => chat.state !== 'closed' && chat.members.some((m) => m.username.toLowerCase() === me && m.status === 'invited'),
    );
  }

  nameIn(chat: Chat, username: string): string {
    return (
      chat.members.find((m) => m.username === username)?.displayName ??
      this.state.contacts.find((x) => x.username === username)?.displayName ??
      username
    );
  }

  /** The others in a chat, by display name. */
  othersIn(chat: Chat): string[] {
    const me = this.username.toLowerCase();
    return chat.members.filter((m) => m.username.toLowerCase() !== me).map((m) => m.displayName);
  }

  requestText(chat: Chat): string {
    const from = this.nameIn(chat, chat.createdBy);
    const me = this.username.toLowerCase();
    const others = chat.members.filter((m) => m.username !== chat.createdBy && m.username.toLowerCase() !== me).map((m) => m.displayName);
    return others.length ? t('chatRequestGroup', { name: from, others: joinNames(others) }) : t('chatRequestFrom', { name: from });
  }

  /** My mutes by chat (the chat list's `muted`, then chat.muted events); chat events carry none. */
  private mutes = new Map<string, ChatMute>();

  /** The call running in each of my chats (the chat list's `call`, then chat.call events); chat events carry none. */
  private liveCalls = new Map<string, Call>();

  private putChat(chat: Chat) {
    // Chat events carry no mute (it is mine only): keep what the list and chat.muted said.
    const mute = this.mutes.get(chat.id);
    const withMute: Chat = mute ? { ...chat, muted: mute.muted, ...(mute.mutedUntil ? { mutedUntil: mute.mutedUntil } : {}) } : { ...chat };
    if (mute && !mute.mutedUntil) delete withMute.mutedUntil;
    const live = this.liveCalls.get(chat.id);
    if (live) withMute.call = live;
    else delete withMute.call;
    this.arrivedDuringLoad?.chats.set(chat.id, withMute);
    this.set({ chats: { ...this.state.chats, [chat.id]: withMute } });
  }

  private putMute(mute: ChatMute) {
    this.mutes.set(mute.chatId, mute);
    const chat = this.state.chats[mute.chatId];
    if (chat) this.putChat(chat);
  }

  /** A contact or chat partner changed name, picture or status: merged where they show, no reload. */
  private mergeUser(user: PublicUser) {
    const same = (u: string) => u.toLowerCase() === user.username.toLowerCase();
    const look = { displayName: user.displayName, avatarUrl: user.avatarUrl, status: user.status };
    const strip = <T extends { avatarUrl?: string; status?: unknown }>(x: T): T => {
      const copy = { ...x };
      if (copy.avatarUrl === undefined) delete copy.avatarUrl;
      if (copy.status === undefined) delete copy.status;
      return copy;
    };
    this.contactsReloads++; // an older reload in flight must not bring the old look back
    const chats: Record<string, Chat> = {};
    for (const [id, chat] of Object.entries(this.state.chats)) {
      chats[id] = chat.members.some((m) => same(m.username))
        ? { ...chat, members: chat.members.map((m) => (same(m.username) ? strip({ ...m, displayName: user.displayName, avatarUrl: user.avatarUrl }) : m)) }
        : chat;
    }
    this.set({ contacts: this.state.contacts.map((x) => (same(x.username) ? strip({ ...x, ...look }) : x)), chats });
  }

  private addPoints(channel: string, series: string, unit: string | undefined, points: Array<[number, number]>) {
    const list = [...this.state.charts];
    const index = list.findIndex((s) => s.channel === channel && s.series === series);
    const old = index >= 0 ? list[index]! : { channel, series, points: [] as Array<[number, number]> };
    const byTime = new Map(old.points.map((p) => [p[0], p] as const));
    for (const p of points) byTime.set(p[0], p);
    const merged = [...byTime.values()].sort((a, b) => a[0] - b[0]).slice(-CHART_POINTS_KEPT);
    const next: ChartSeries = { channel, series, points: merged, ...((unit ?? old.unit) !== undefined ? { unit: unit ?? old.unit } : {}) };
    if (index >= 0) list[index] = next;
    else list.push(next);
    this.set({ charts: list });
  }
}

/** The model's state, re-rendering the component when it changes. */
export function usePanel(model: PanelModel): PanelState {
  const [state, setState] = useState(model.state);
  useEffect(() => {
    setState(model.state);
    return model.subscribe(() => setState(model.state));
  }, [model]);
  return state;
}
