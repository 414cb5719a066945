/**
 * The bridge between the panel's tab and its chat windows: what a chat view needs (ChatBackend),
 * and the two ways to get it.
 *
 * A login may hold only one poll at a time (a newer poll by the same session replaces the older),
 * so a separate chat window (Electron's, or the browser's pop-out at /app/#/chat/<id>) must not
 * run an event loop of its own next to the panel's. Instead it talks to the panel over a
 * BroadcastChannel: calls go to the panel's client (one outbox, one poll), events come back
 * (`serveChatWindows` on the panel's side, `connectToPanel` on the window's). Only when no panel
 * answers does the window run a client of its own (a chat link opened directly).
 */
import { isMuted, type Chat, type ChatFile, type ConnectionState, type History, type Message, type OutboxEntry, type PollMode, type PorticoClient, type PresenceState, type UserStatus } from './api/index.js';
import type { PanelModel } from './model.js';

export interface ChatBackend {
  readonly me: string;
  chat(id: string): Promise<Chat>;
  history(chatId: string, before?: number, limit?: number): Promise<History>;
  /** Queues a message in the outbox: text, files uploaded first (upload()), or both. */
  send(chatId: string, text: string, files?: Array<{ id: string; name: string }>): Promise<void>;
  /** Uploads a file to the chat (progress only where the client is this page's). */
  upload(chatId: string, file: Blob, name: string, onProgress?: (sent: number, total: number) => void): Promise<ChatFile>;
  /** A path of the API (a file's signed url) as a full address. */
  fileUrl(path: string): string;
  retry(clientId: string): Promise<void>;
  outbox(chatId: string): Promise<OutboxEntry[]>;
  leave(chatId: string): Promise<void>;
  /** Drops a failed entry of the outbox. */
  discard(clientId: string): Promise<void>;
  /** My own message: new text, or deleted (its place stays). */
  edit(chatId: string, clientId: string, text: string): Promise<Message>;
  remove(chatId: string, clientId: string): Promise<Message>;
  /** A reaction of mine on a message, added or taken back. */
  react(chatId: string, messageId: number, emoji: string, add: boolean): Promise<Message>;
  /** Read up to this message (the mark never moves back). */
  markRead(chatId: string, upTo: number): Promise<void>;
  /** I am typing (the caller keeps to one every few seconds). */
  typing(chatId: string): Promise<void>;
  /** Client events: chat.*, outbox, connection, reset. */
  on(type: string, handler: (payload: any) => void): () => void;
  connection(): { state: ConnectionState; mode: PollMode };
  /** The presence of my contacts by lower-cased username (others' is not known to me); kept current by 'presence' events. */
  presence(): Promise<Record<string, PresenceState>>;
  /** While the event loop waits out a backoff: when it tries again (a client of this page only). */
  retryAt?(): number | undefined;
  /** Poll now instead of waiting out the backoff (a client of this page only). */
  pollNow?(): void;
  /** The view shows this chat now (focused and visible), or no longer. */
  viewing(chatId: string, active: boolean): void;
  /** Calls the chat's others (the call shows in the panel's media area); answers why it could not start. Absent without a panel. */
  startCall?(chatId: string, video?: boolean): Promise<string | undefined>;
  /** Joins the call running in the chat (issue 18); answers why not. Absent without a panel. */
  joinCall?(chatId: string): Promise<string | undefined>;
  /** Whether I muted the chat (a 'chat.muted' event says it changed). Absent without a panel. */
  muted?(chatId: string): Promise<boolean>;
  mute?(chatId: string, muted: boolean): Promise<void>;
  /** My contacts' status messages by lower-cased username ('user.updated' says one changed). */
  statuses?(): Promise<Record<string, UserStatus>>;
  /** Whom Add people… offers: my contacts. Absent without a panel. */
  contacts?(): Promise<Array<{ username: string; displayName: string }>>;
  /** Invites people into the chat, what they read chosen first (issue 18); answers why not. Absent without a panel. */
  addPeople?(chatId: string, usernames: string[], history: Chat['history']): Promise<string | undefined>;
}

/** Straight to a client: the chat shown inside the panel, or a window on its own. */
export function localBackend(client: PorticoClient, model?: PanelModel): ChatBackend {
  return {
    me: client.user?.username ?? '',
    chat: (id) => client.chat(id),
    history: (id, before, limit) => client.history(id, before, limit),
    send: async (id, text, files) => {
      client.send(id, text, files);
    },
    upload: (id, file, name, onProgress) => client.uploadFile(id, file, name, onProgress),
    fileUrl: (path) => client.resolveUrl(path),
    retry: async (clientId) => client.retry(clientId),
    outbox: async (id) => client.outbox(id),
    discard: async (clientId) => void client.discard(clientId),
    edit: (id, clientId, text) => client.editMessage(id, clientId, text),
    remove: (id, clientId) => client.deleteMessage(id, clientId),
    react: (id, messageId, emoji, add) => (add ? client.react(id, messageId, emoji) : client.unreact(id, messageId, emoji)),
    markRead: async (id, upTo) => {
      await client.markRead(id, upTo);
    },
    typing: (id) => client.typing(id),
    leave: async (id) => {
      if (model) await model.leave(id);
      else await client.leave(id);
    },
    on: (type, handler) => client.on(type, handler),
    connection: () => ({ state: client.connection, mode: client.mode }),
    presence: async () => {
      const contacts = model?.state.loaded || model?.state.cached ? model.state.contacts : await client.contacts();
      return Object.fromEntries(contacts.map((c) => [c.username.toLowerCase(), c.presence]));
    },
    viewing: (id, active) => model?.setViewing(id, active),
    retryAt: () => client.retryAt,
    pollNow: () => client.pollNow(),
    ...(model
      ? {
          startCall: (id: string, video?: boolean) => model.startCall(id, video),
          joinCall: (id: string) => model.joinCall(id),
          muted: async (id: string) => isMuted(model.state.chats[id]),
          mute: (id: string, muted: boolean) => model.muteChat(id, muted),
          statuses: async () => Object.fromEntries(model.state.contacts.flatMap((c) => (c.status ? [[c.username.toLowerCase(), c.status]] : []))),
          contacts: async () => model.state.contacts.map((c) => ({ username: c.username, displayName: c.displayName })),
          addPeople: (id: string, usernames: string[], history: Chat['history']) => model.addPeople(id, usernames, history),
        }
      : {}),
  };
}

const CHANNEL = 'portico-panel';
/** Events a chat window needs from the panel's client. */
const FORWARDED = ['chat.message', 'chat.message.edited', 'chat.message.deleted', 'chat.reaction', 'chat.read', 'chat.typing', 'chat.accepted', 'chat.declined', 'chat.left', 'chat.closed', 'presence', 'outbox', 'connection', 'reset', 'ready', 'contacts.changed', 'auth', 'chat.muted', 'user.updated', 'chat.call', 'chat.added', 'chat.updated'];
const CALLS = ['chat', 'history', 'send', 'upload', 'retry', 'outbox', 'leave', 'startCall', 'joinCall', 'presence', 'muted', 'mute', 'statuses', 'contacts', 'addPeople', 'discard', 'edit', 'remove', 'react', 'markRead', 'typing'] as const;
type Call = (typeof CALLS)[number];

type BridgeMessage =
  | { kind: 'hello'; from: string }
  | { kind: 'here'; from: string; to: string; user: string; connection: { state: ConnectionState; mode: PollMode } }
  | { kind: 'call'; from: string; to: string; id: number; method: Call; args: unknown[] }
  | { kind: 'result'; to: string; id: number; ok: boolean; value?: unknown; error?: { status: number; code: string; message: string } }
  | { kind: 'event'; from: string; type: string; payload: unknown }
  | { kind: 'viewing'; from: string; chatId: string; active: boolean }
  | { kind: 'bye'; from: string };

const randomId = () => Math.random().toString(36).slice(2) + Date.now().toString(36);

/** The panel's side: answers chat windows with its client. Returns a function that stops it. */
export function serveChatWindows(client: PorticoClient, model: PanelModel): () => void {
  if (typeof BroadcastChannel === 'undefined') return () => {};
  const id = randomId();
  const channel = new BroadcastChannel(CHANNEL);
  const local = localBackend(client, model);
  const post = (message: BridgeMessage) => channel.postMessage(message);
  channel.onmessage = (event: MessageEvent<BridgeMessage>) => {
    const m = event.data;
    if (!m || typeof m !== 'object') return;
    if (m.kind === 'hello' && client.user) {
      post({ kind: 'here', from: id, to: m.from, user: client.user.username, connection: local.connection() });
    } else if (m.kind === 'call' && m.to === id && (CALLS as readonly string[]).includes(m.method)) {
      const fn = local[m.method] as ((...args: unknown[]) => Promise<unknown>) | undefined;
      if (!fn) return;
      fn(...(Array.isArray(m.args) ? m.args : [])).then(
        (value) => post({ kind: 'result', to: m.from, id: m.id, ok: true, value }),
        (error: { status?: number; code?: string; message?: string }) =>
          post({ kind: 'result', to: m.from, id: m.id, ok: false, error: { status: error?.status ?? 0, code: error?.code ?? 'error', message: error?.message ?? String(error) } }),
      );
    } else if (m.kind === 'viewing') {
      model.setViewing(m.chatId, m.active);
    }
  };
  const offs = FORWARDED.map((type) => client.on(type, (payload) => post({ kind: 'event', from: id, type, payload })));
  const bye = () => post({ kind: 'bye', from: id });
  addEventListener('pagehide', bye);
  return () => {
    bye();
    removeEventListener('pagehide', bye);
    for (const off of offs) off();
    channel.close();
  };
}

export class BridgeError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The chat window's side: a backend through the panel, or undefined when no panel answers in time. */
export async function connectToPanel(timeoutMs = 600): Promise<ChatBackend | undefined> {
  if (typeof BroadcastChannel === 'undefined') return undefined;
  const id = randomId();
  const channel = new BroadcastChannel(CHANNEL);
  let host: { id: string; user: string; connection: { state: ConnectionState; mode: PollMode } } | undefined;
  let nextCall = 0;
  const pending = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
  const handlers = new Map<string, Set<(payload: any) => void>>();
  let answered: (() => void) | undefined;
  const emit = (type: string, payload: unknown) => {
    for (const h of [...(handlers.get(type) ?? [])]) h(payload);
  };

  channel.onmessage = (event: MessageEvent<BridgeMessage>) => {
    const m = event.data;
    if (!m || typeof m !== 'object') return;
    if (m.kind === 'here' && m.to === id) {
      if (!host) {
        host = { id: m.from, user: m.user, connection: m.connection };
        answered?.();
      } else if (host.id === m.from || host.connection.state === 'offline') {
        host = { id: m.from, user: m.user, connection: m.connection };
        emit('connection', m.connection);
      }
    } else if (m.kind === 'result' && m.to === id) {
      const p = pending.get(m.id);
      if (!p) return;
      pending.delete(m.id);
      if (m.ok) p.resolve(m.value);
      else p.reject(new BridgeError(m.error?.status ?? 0, m.error?.code ?? 'error', m.error?.message ?? 'failed'));
    } else if (m.kind === 'event' && host && m.from === host.id) {
      if (m.type === 'connection') host.connection = m.payload as typeof host.connection;
      emit(m.type, m.payload);
    } else if (m.kind === 'bye' && host && m.from === host.id) {
      host.connection = { state: 'offline', mode: host.connection.mode };
      emit('connection', host.connection);
      for (const p of pending.values()) p.reject(new BridgeError(0, 'network', 'the panel closed'));
      pending.clear();
    }
  };

  channel.postMessage({ kind: 'hello', from: id } satisfies BridgeMessage);
  await new Promise<void>((resolve) => {
    answered = resolve;
    setTimeout(resolve, timeoutMs);
  });
  if (!host) {
    channel.close();
    return undefined;
  }
  // Look for a panel again while the one we had is gone (reloaded, reopened).
  setInterval(() => {
    if (host?.connection.state === 'offline') channel.postMessage({ kind: 'hello', from: id } satisfies BridgeMessage);
  }, 3000);

  const call = (method: Call, ...args: unknown[]) =>
    new Promise<any>((resolve, reject) => {
      const callId = ++nextCall;
      pending.set(callId, { resolve, reject });
      channel.postMessage({ kind: 'call', from: id, to: host!.id, id: callId, method, args } satisfies BridgeMessage);
      setTimeout(() => {
        if (pending.delete(callId)) reject(new BridgeError(0, 'network', 'the panel did not answer'));
      }, 35_000);
    });

  const me = host.user;
  return {
    me,
    chat: (chatId) => call('chat', chatId),
    history: (chatId, before, limit) => call('history', chatId, before, limit),
    send: (chatId, text, files) => call('send', chatId, text, files),
    // A Blob goes over the channel as it is (structured clone); progress stays with the panel.
    upload: (chatId, file, name) => call('upload', chatId, file, name),
    fileUrl: (path) => path,
    retry: (clientId) => call('retry', clientId),
    outbox: (chatId) => call('outbox', chatId),
    leave: (chatId) => call('leave', chatId),
    discard: (clientId) => call('discard', clientId),
    edit: (chatId, clientId, text) => call('edit', chatId, clientId, text),
    remove: (chatId, clientId) => call('remove', chatId, clientId),
    react: (chatId, messageId, emoji, add) => call('react', chatId, messageId, emoji, add),
    markRead: (chatId, upTo) => call('markRead', chatId, upTo),
    typing: (chatId) => call('typing', chatId),
    startCall: (chatId, video) => call('startCall', chatId, video),
    joinCall: (chatId) => call('joinCall', chatId),
    muted: (chatId) => call('muted', chatId),
    mute: (chatId, muted) => call('mute', chatId, muted),
    statuses: () => call('statuses'),
    presence: () => call('presence'),
    on: (type, handler) => {
      let set = handlers.get(type);
      if (!set) handlers.set(type, (set = new Set()));
      const entry = (payload: any) => handler(payload);
      set.add(entry);
      return () => set.delete(entry);
    },
    connection: () => host!.connection,
    viewing: (chatId, active) => channel.postMessage({ kind: 'viewing', from: id, chatId, active } satisfies BridgeMessage),
  };
}
