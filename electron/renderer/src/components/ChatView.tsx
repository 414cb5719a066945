/**
 * One chat: history with infinite scroll upward (paged with `before`), send on Enter (Shift+Enter
 * for a new line; Enter that confirms an IME composition does not send), each own message with
 * its delivery state from the outbox (sending / sent / not sent + Retry), the members of a group
 * chat, and Leave. Works the same inside the panel and in a chat window of its own.
 */
import { ChatMuteToggle, ChatPartnerAvatar, ChatPartnerStatus } from './ChatHeaderPeople.js';
import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { LIMITS, type Chat, type ConnectionState, type Message, type MessageFile, type OutboxEntry, type PollMode, type PresenceState } from '../api/index.js';
import { formatSize } from '../chat/format.js';
import { onlyEmoji, renderMessage } from '../chat/markdown.js';
import { interceptLinks } from '../platform.js';
import type { ChatBackend } from '../window-bridge.js';
import { formatDay, formatTime, joinNames, t, type Key } from '../i18n.js';
import { Dialog } from './Dialog.js';
import { EmojiPicker } from './EmojiPicker.js';
import { Icon } from './Icon.js';
import { OfflineBanner } from './OfflineBanner.js';
import { JoinCallBar } from './CallState.js';
import { AddPeopleBar, AddPeopleButton, canAddPeople } from './ChatAddPeople.js';

/** Reactions offered at once on a message (the picker has the rest). */
const QUICK_REACTIONS = ['👍', '❤️', '😂', '🎉', '👀'];
/** Send "typing" at most this often while typing; show someone typing this long after their last one. */
const TYPING_EVERY_MS = 3000;
const TYPING_SHOWN_MS = 5000;
/** The length counter shows from this many characters before the limit. */
const COUNTER_FROM = 200;

/** Messages of one sender this close together are shown as one group (one name, one time). */
const GROUP_MS = 5 * 60_000;

const PAGE = 30;

interface Props {
  backend: ChatBackend;
  chatId: string;
  initialChat?: Chat | undefined;
  /** Inside the panel: back to it. */
  onClose?: () => void;
  /** Inside the panel in a browser: the address of the same chat in a window of its own. */
  popOutHref?: string;
  /** After Leave (a chat window closes itself). */
  onLeft?: () => void;
  /** Show the offline banner here (a chat window, or a chat covering the panel). */
  banner?: boolean;
  /** Shown beside the panel (a wide window): closing it is "close", not "back". */
  beside?: boolean;
  /** A message to bring into view and highlight (a search result); `seq` changes to do it again. */
  focus?: { messageId: number; seq: number } | undefined;
}

/** A line in the history that is not a message: someone left or declined. */
interface MemberLine {
  key: string;
  text: string;
  /** Shown after this message id (undefined: at the end). */
  after: number | undefined;
}

type Row =
  | { kind: 'message'; key: string; message: Message; mine: boolean; entry?: OutboxEntry | undefined }
  | { kind: 'pending'; key: string; entry: OutboxEntry };

const MEMBER_LABEL: Record<string, Key> = { invited: 'memberInvited', accepted: 'memberAccepted', declined: 'memberDeclined', left: 'memberLeft' };

/** A call's length as m:ss (or h:mm:ss). */
function duration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const sec = String(seconds % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

function mergeMessages(list: Message[], more: Message[]): Message[] {
  const byId = new Map(list.map((m) => [m.id, m]));
  for (const m of more) byId.set(m.id, m);
  return [...byId.values()].sort((a, b) => a.id - b.id);
}

/** A file being attached in the composer: uploading, uploaded (its id), or failed (why). */
interface Attachment {
  key: number;
  name: string;
  size: number;
  sent: number;
  id?: string;
  error?: string;
}

/** Most files on one message (the server's CHAT_FILE_LIMITS.filesPerMessage). */
const FILES_PER_MESSAGE = 10;

/** A message's files: images as thumbnails that open full size, others as cards that download. */
function MessageFiles({ files, url, onOpen, onLoad }: { files: MessageFile[]; url: (path: string) => string; onOpen: (file: MessageFile) => void; onLoad: (img: HTMLImageElement) => void }) {
  return (
    <ul class="msg-files">
      {files.map((f) =>
        f.thumbnailUrl ? (
          <li key={f.id} class="file-image">
            <button type="button" class="file-thumb" onClick={() => onOpen(f)} title={f.name}>
              <img src={url(f.thumbnailUrl)} alt={f.name} onLoad={(e) => onLoad(e.currentTarget)} />
            </button>
          </li>
        ) : (
          <li key={f.id} class="file-card">
            <a href={url(f.url)} download={f.name} class="file-card-link" title={f.name}>
              <span class="file-card-icon" aria-hidden="true">
                {(f.name.split('.').pop() ?? '').slice(0, 4).toUpperCase() || 'FILE'}
              </span>
              <span class="file-card-text">
                <span class="file-card-name">{f.name}</span>
                <span class="file-card-size">
                  {formatSize(f.size)} · {t('download')}
                </span>
              </span>
            </a>
          </li>
        ),
      )}
    </ul>
  );
}

function withReactions(m: Message, reactions: NonNullable<Message['reactions']>): Message {
  const { reactions: _old, ...rest } = m;
  return reactions.length ? { ...rest, reactions } : rest;
}

/** The text of a message: the markdown subset as sanitized HTML (chat/markdown.ts), links opening outside. */
function MessageText({ text }: { text: string }) {
  return (
    <div
      class={`msg-text rich-text${onlyEmoji(text) ? ' jumbo' : ''}`}
      onClick={interceptLinks}
      onAuxClick={interceptLinks}
      // Safe: markdown-it with html off escapes all HTML of the text; links only http(s)/mailto.
      dangerouslySetInnerHTML={{ __html: renderMessage(text) }}
    />
  );
}

export function ChatView({ backend, chatId, initialChat, onClose, popOutHref, onLeft, banner = false, beside = false, focus }: Props) {
  const [chat, setChat] = useState<Chat | undefined>(initialChat);
  const [messages, setMessages] = useState<Message[]>([]);
  const [before, setBefore] = useState<number | undefined>();
  const [loaded, setLoaded] = useState(false);
  const [loadingOlder, setLoadingOlder] = useState(false);
  const [outbox, setOutbox] = useState<OutboxEntry[]>([]);
  const [text, setText] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [conn, setConn] = useState<{ state: ConnectionState; mode: PollMode }>(backend.connection());
  const [presence, setPresence] = useState<Record<string, PresenceState>>({});
  const [confirmLeave, setConfirmLeave] = useState(false);
  const [adding, setAdding] = useState(false);
  /** My message being edited in place (by client id), with its new text. */
  const [editing, setEditing] = useState<{ clientId: string; text: string } | undefined>();
  const [confirmDelete, setConfirmDelete] = useState<Message | undefined>();
  /** Where the emoji picker is open: the composer, or a message (reacting). */
  const [picker, setPicker] = useState<'composer' | number | undefined>();
  /** Who is typing, until when (ms). */
  const [typing, setTyping] = useState<Record<string, number>>({});
  /** Members' read marks (from the chat, then chat.read events). */
  const [reads, setReads] = useState<Record<string, number>>({});
  const [active, setActive] = useState(false);
  const [attachments, setAttachments] = useState<Attachment[]>([]);
  /** The image shown full size. */
  const [viewing, setViewing] = useState<MessageFile | undefined>();
  const [dragging, setDragging] = useState(false);
  /** The message a search brought into view (highlighted for a moment). */
  const [highlighted, setHighlighted] = useState<number | undefined>();
  const focusDone = useRef(0);
  const fileInput = useRef<HTMLInputElement>(null);
  const attachKey = useRef(0);
  const lastTyping = useRef(0);
  const editingId = editing?.clientId;
  // The editor takes the focus when it opens, the cursor at the end: before the browser paints
  // (a layout effect), so what the user types at once is not moved behind the old text.
  useLayoutEffect(() => {
    if (!editingId) return;
    const el = document.getElementById(`edit-${editingId}`) as HTMLTextAreaElement | null;
    el?.focus();
    el?.setSelectionRange(el.value.length, el.value.length);
  }, [editingId]);
  const markedUpTo = useRef(0);
  /** Members seen leaving or declining while this view is open, with the last message id then. */
  const [seenLeaving, setSeenLeaving] = useState<Map<string, number | undefined>>(new Map());
  const lastId = useRef<number | undefined>(undefined);
  const list = useRef<HTMLDivElement>(null);
  const input = useRef<HTMLTextAreaElement>(null);
  const scroll = useRef<{ mode: 'bottom' } | { mode: 'keep'; height: number; top: number } | undefined>({ mode: 'bottom' });
  const me = backend.me.toLowerCase();

  const loadLatest = useCallback(async () => {
    try {
      const page = await backend.history(chatId, undefined, PAGE);
      scroll.current = { mode: 'bottom' };
      setMessages((old) => mergeMessages(old, page.messages));
      setBefore((old) => (loaded ? old : page.before));
      setLoaded(true);
      setError(undefined);
    } catch (err) {
      setError(t('chatNotFound', { message: (err as Error).message }));
    }
  }, [backend, chatId, loaded]);

  // First load, and subscriptions.
  useEffect(() => {
    let alive = true;
    if (!initialChat) backend.chat(chatId).then((c) => alive && setChat(c), (err: Error) => alive && setError(t('chatNotFound', { message: err.message })));
    void loadLatest();
    backend.outbox(chatId).then((entries) => alive && setOutbox(entries), () => {});
    const askPresence = () => backend.presence().then((p) => alive && setPresence(p), () => {});
    void askPresence();
    const offs = [
      backend.on('presence', (e: { username: string; state: PresenceState }) => setPresence((old) => ({ ...old, [e.username.toLowerCase()]: e.state }))),
      ...['ready', 'contacts.changed'].map((type) => backend.on(type, () => void askPresence())),
      backend.on('chat.message', (e: { message: Message }) => {
        if (e.message.chatId !== chatId) return;
        const el = list.current;
        const nearBottom = !el || el.scrollHeight - el.scrollTop - el.clientHeight < 80;
        if (nearBottom || e.message.from.toLowerCase() === me) scroll.current = { mode: 'bottom' };
        setMessages((old) => mergeMessages(old, [e.message]));
        const from = e.message.from.toLowerCase();
        setTyping((old) => {
          if (!(from in old)) return old;
          const next = { ...old };
          delete next[from];
          return next;
        });
      }),
      backend.on('chat.message.edited', (e: { message: Message }) => {
        if (e.message.chatId !== chatId) return;
        // The edit's file urls are not signed: keep the files of the version we have.
        setMessages((old) => old.map((m) => (m.id === e.message.id ? { ...e.message, ...(m.files ? { files: m.files } : {}) } : m)));
      }),
      backend.on('chat.message.deleted', (e: { chatId: string; id: number }) => {
        if (e.chatId !== chatId) return;
        setMessages((old) => old.map((m) => (m.id === e.id ? { id: m.id, chatId: m.chatId, clientId: m.clientId, from: m.from, sentAt: m.sentAt, text: '', deleted: true } : m)));
      }),
      backend.on('chat.reaction', (e: { chatId: string; messageId: number; reactions: Message['reactions'] }) => {
        if (e.chatId !== chatId) return;
        setMessages((old) => old.map((m) => (m.id === e.messageId ? withReactions(m, e.reactions ?? []) : m)));
      }),
      backend.on('chat.read', (e: { chatId: string; username: string; upTo: number }) => {
        if (e.chatId !== chatId) return;
        const who = e.username.toLowerCase();
        setReads((old) => ((old[who] ?? 0) >= e.upTo ? old : { ...old, [who]: e.upTo }));
        setTyping((old) => old);
      }),
      backend.on('chat.typing', (e: { chatId: string; username: string }) => {
        if (e.chatId !== chatId || e.username.toLowerCase() === me) return;
        setTyping((old) => ({ ...old, [e.username.toLowerCase()]: Date.now() + TYPING_SHOWN_MS }));
      }),
      backend.on('outbox', (e: { entries: OutboxEntry[] }) => {
        setOutbox(e.entries.filter((x) => x.chatId === chatId));
      }),
      // A call in this chat started, changed or ended (issue 18): the Join bar follows it.
      backend.on('chat.call', (e: { chatId: string; call: Chat['call'] }) => {
        if (e.chatId !== chatId) return;
        setChat((old) => {
          if (!old) return old;
          const next = { ...old };
          if (e.call && e.call.state !== 'ended') next.call = e.call;
          else delete next.call;
          return next;
        });
      }),
      ...['chat.accepted', 'chat.declined', 'chat.left', 'chat.closed', 'chat.added', 'chat.updated'].map((type) =>
        backend.on(type, (e: { chat: Chat; username?: string }) => {
          if (e.chat.id !== chatId) return;
          // Chat events carry no call: keep the one chat.call said.
          setChat((old) => (old?.call && !e.chat.call ? { ...e.chat, call: old.call } : e.chat));
          if ((type === 'chat.left' || type === 'chat.declined') && e.username) {
            const who = e.username.toLowerCase();
            setSeenLeaving((old) => (old.has(who) ? old : new Map(old).set(who, lastId.current)));
          }
        }),
      ),
      backend.on('reset', () => {
        void loadLatest();
        void askPresence();
      }),
      backend.on('connection', (c: { state: ConnectionState; mode: PollMode }) => setConn(c)),
    ];
    return () => {
      alive = false;
      for (const off of offs) off();
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [backend, chatId]);

  // Tell the panel while this chat is in view (its messages are then not "unread").
  useEffect(() => {
    const report = () => {
      const shown = document.visibilityState === 'visible' && document.hasFocus();
      setActive(shown);
      backend.viewing(chatId, shown);
    };
    report();
    addEventListener('focus', report);
    addEventListener('blur', report);
    document.addEventListener('visibilitychange', report);
    return () => {
      removeEventListener('focus', report);
      removeEventListener('blur', report);
      document.removeEventListener('visibilitychange', report);
      backend.viewing(chatId, false);
    };
  }, [backend, chatId]);

  useEffect(() => {
    if (loaded) input.current?.focus();
  }, [loaded]);

  // Read marks as the chat has them.
  useEffect(() => {
    if (!chat) return;
    setReads((old) => {
      const next = { ...old };
      for (const m of chat.members) if (m.readUpTo !== undefined && (next[m.username.toLowerCase()] ?? 0) < m.readUpTo) next[m.username.toLowerCase()] = m.readUpTo;
      return next;
    });
  }, [chat]);

  // Shown and new messages from others: read up to the newest.
  useEffect(() => {
    if (!active || !loaded) return;
    const newest = messages.length ? messages[messages.length - 1]!.id : 0;
    if (newest > markedUpTo.current && newest > (reads[me] ?? 0)) {
      markedUpTo.current = newest;
      backend.markRead(chatId, newest).catch(() => {
        markedUpTo.current = 0;
      });
    }
  }, [active, loaded, messages, backend, chatId, me, reads]);

  // Someone typing is shown until TYPING_SHOWN_MS after their last signal.
  useEffect(() => {
    const until = Object.values(typing);
    if (!until.length) return;
    const timer = setTimeout(() => {
      const now = Date.now();
      setTyping((old) => Object.fromEntries(Object.entries(old).filter(([, at]) => at > now)));
    }, Math.max(50, Math.min(...until) - Date.now()));
    return () => clearTimeout(timer);
  }, [typing]);

  const loadOlder = useCallback(async () => {
    if (before === undefined || loadingOlder) return;
    setLoadingOlder(true);
    try {
      const page = await backend.history(chatId, before, PAGE);
      const el = list.current;
      if (el) scroll.current = { mode: 'keep', height: el.scrollHeight, top: el.scrollTop };
      setMessages((old) => mergeMessages(old, page.messages));
      setBefore(page.before);
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setLoadingOlder(false);
    }
  }, [backend, chatId, before, loadingOlder]);

  // A search result chosen: load older pages until the message is there, then scroll to it and mark it.
  useEffect(() => {
    if (!focus || !loaded || focusDone.current === focus.seq) return;
    if (messages.some((m) => m.id === focus.messageId)) {
      focusDone.current = focus.seq;
      const el = document.getElementById(`msg-${chatId}-${focus.messageId}`);
      el?.scrollIntoView({ block: 'center' });
      setHighlighted(focus.messageId);
      const timer = setTimeout(() => setHighlighted(undefined), 4000);
      return () => clearTimeout(timer);
    }
    if (before !== undefined && !loadingOlder) void loadOlder();
    else if (before === undefined) focusDone.current = focus.seq; // not in this chat's history (deleted?)
    return undefined;
  }, [focus, loaded, messages, before, loadingOlder, loadOlder, chatId]);

  // Keep the view where the reader expects it: at the bottom for new messages, in place when older ones are put on top.
  useLayoutEffect(() => {
    const el = list.current;
    const want = scroll.current;
    if (!el || !want) return;
    scroll.current = undefined;
    if (want.mode === 'bottom') el.scrollTop = el.scrollHeight;
    else el.scrollTop = want.top + (el.scrollHeight - want.height);
    // A short history that does not fill the view cannot be scrolled up: fetch more at once.
    if (loaded && before !== undefined && el.scrollHeight <= el.clientHeight + 10) void loadOlder();
  }, [messages, outbox, loaded]);

  const onScroll = () => {
    const el = list.current;
    if (el && el.scrollTop < 60) void loadOlder();
  };

  /** A picture that loads grows its message: one that was at the bottom stays there. */
  const keepAtBottom = (img: HTMLImageElement) => {
    const el = list.current;
    if (el && el.scrollHeight - el.scrollTop - el.clientHeight - img.offsetHeight < 80) el.scrollTop = el.scrollHeight;
  };

  const uploading = attachments.some((a) => !a.id && !a.error);
  const ready = attachments.filter((a) => a.id);

  /** Uploads at once, before the message is queued (the outbox entry then carries the file ids). */
  const attach = (files: File[]) => {
    const room = FILES_PER_MESSAGE - attachments.length;
    for (const file of files.slice(0, Math.max(0, room))) {
      const key = ++attachKey.current;
      const name = file.name || 'pasted.png';
      const update = (change: Partial<Attachment>) => setAttachments((old) => old.map((a) => (a.key === key ? { ...a, ...change } : a)));
      setAttachments((old) => [...old, { key, name, size: file.size, sent: 0 }]);
      backend.upload(chatId, file, name, (sent) => update({ sent })).then(
        (f) => update({ id: f.id, name: f.name, sent: file.size }),
        (err: Error) => update({ error: err.message }),
      );
    }
  };

  const send = () => {
    const body = text.replace(/\s+$/, '');
    if (uploading || body.length > LIMITS.messageChars) return;
    if (!body.trim() && !ready.length) return;
    const files = ready.map((a) => ({ id: a.id!, name: a.name }));
    setAttachments([]);
    lastTyping.current = 0;
    scroll.current = { mode: 'bottom' };
    setText('');
    backend.send(chatId, body.trim() ? body : '', files.length ? files : undefined).catch((err: Error) => setError(err.message));
  };

  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      send();
    } else if (e.key === 'ArrowUp' && !text && !e.isComposing) {
      // As in Slack: ↑ in an empty composer edits my last message.
      const last = [...messages].reverse().find((m) => m.from.toLowerCase() === me && !m.deleted && !m.call);
      if (last) {
        e.preventDefault();
        setEditing({ clientId: last.clientId, text: last.text });
      }
    } else if (e.key === 'Escape' && onClose) {
      e.preventDefault();
      onClose();
    }
  };

  const others = chat ? chat.members.filter((m) => m.username.toLowerCase() !== me) : [];
  const names = joinNames(others.map((m) => m.displayName));
  const title = chat ? t('chatTitle', { names }) : t('loading');
  useEffect(() => {
    if (!onClose) document.title = title;
  }, [title, onClose]);
  const myStatus = chat?.members.find((m) => m.username.toLowerCase() === me)?.status;
  const canWrite = chat ? chat.state !== 'closed' && myStatus === 'accepted' : false;
  const nameOf = (username: string) => chat?.members.find((m) => m.username === username)?.displayName ?? username;

  // The partner's presence under the title (a group: who of the others in the chat is online).
  const present = others.filter((m) => m.status === 'accepted' || m.status === 'invited');
  let subtitle: { text: string; state?: PresenceState } | undefined;
  if (present.length === 1) {
    const state = presence[present[0]!.username.toLowerCase()];
    if (state) subtitle = { text: t(state), state };
  } else if (present.length > 1) {
    const online = present.filter((m) => (presence[m.username.toLowerCase()] ?? 'offline') !== 'offline');
    subtitle = online.length
      ? { text: t('onlineNames', { names: joinNames(online.map((m) => m.displayName)) }), state: 'available' }
      : { text: t('groupOnline', { count: 0, total: present.length }), state: 'offline' };
  }

  // Server messages, then what the outbox still holds that the server has not shown us yet.
  const byClientId = new Map(outbox.map((e) => [e.clientId, e]));
  const seen = new Set(messages.map((m) => m.clientId));
  const rows: Row[] = messages.map((m) => ({ kind: 'message', key: `m${m.id}`, message: m, mine: m.from.toLowerCase() === me, entry: m.from.toLowerCase() === me ? byClientId.get(m.clientId) : undefined }));
  for (const entry of outbox) {
    if (seen.has(entry.clientId)) continue;
    if (entry.state === 'sent' && entry.message) rows.push({ kind: 'message', key: `m${entry.message.id}`, message: entry.message, mine: true, entry });
    else rows.push({ kind: 'pending', key: `o${entry.clientId}`, entry });
  }
  lastId.current = messages.length ? messages[messages.length - 1]!.id : undefined;
  // "Sent" only under my latest message that the server has (earlier ones are sent as well).
  let latestMine = -1;
  rows.forEach((row, i) => {
    if (row.kind === 'message' && row.mine && !row.message.call) latestMine = i;
  });
  // Who left or declined: after the message that was the last when it was seen, else after their own last message.
  const memberLines: MemberLine[] = [];
  for (const m of chat?.members ?? []) {
    if (m.status !== 'left' && m.status !== 'declined') continue;
    const who = m.username.toLowerCase();
    const lastOwn = [...messages].reverse().find((x) => x.from.toLowerCase() === who)?.id;
    const after = seenLeaving.has(who) ? seenLeaving.get(who) : lastOwn;
    memberLines.push({ key: `left-${who}`, text: t(m.status === 'left' ? 'leftLine' : 'declinedLine', { name: m.displayName }), after });
  }
  const messageIds = new Set(messages.map((m) => m.id));

  const titleId = `chat-title-${chatId}`;
  const items: preact.JSX.Element[] = [];
  /** The message before, for grouping (none after a call line or a member line), and the day shown last. */
  let previous: { from: string; at: number } | undefined;
  let lastDay: string | undefined;
  const memberLine = (line: MemberLine) => (
    <li key={line.key} class="system-line" data-kind="member">
      {line.text}
    </li>
  );
  rows.forEach((row, index) => {
    const sentAt = row.kind === 'message' ? row.message.sentAt : row.entry.createdAt;
    const from = row.kind === 'message' ? row.message.from.toLowerCase() : me;
    const at = Date.parse(sentAt);
    const day = new Date(at).toDateString();
    if (lastDay !== day) {
      lastDay = day;
      items.push(
        <li key={`day-${day}`} class="day-line">
          <span>{formatDay(sentAt)}</span>
        </li>,
      );
      previous = undefined;
    }
    const isCall = row.kind === 'message' && row.message.call;
    const grouped = !isCall && previous !== undefined && previous.from === from && at - previous.at < GROUP_MS;
    previous = isCall ? undefined : { from, at };
    if (row.kind === 'message' && row.message.call) {
      const { message } = row;
      const call = message.call!;
      const label = call.outcome === 'missed' ? t('callLineMissed') : call.outcome === 'declined' ? t('callLineDeclined') : t('callLineCompleted', { duration: duration(call.durationSeconds ?? 0) });
      items.push(
        <li key={row.key} class={`call-line call-${call.outcome}`} data-call={call.id} data-outcome={call.outcome}>
          <Icon name="video" size={14} /> <span class="call-line-text">{label}</span> <time dateTime={message.sentAt}>{formatTime(message.sentAt)}</time>
        </li>,
      );
    } else if (row.kind === 'message') {
      const { message, mine, entry } = row;
      const isEditing = mine && editing?.clientId === message.clientId && !message.deleted;
      const partner = others.length === 1 ? others[0]!.username.toLowerCase() : undefined;
      const seenByPartner = partner !== undefined && (reads[partner] ?? 0) >= message.id;
      const waiting = chat?.state === 'pending' ? others.filter((m) => m.status === 'invited').map((m) => m.displayName) : [];
      items.push(
        <li
          key={row.key}
          id={`msg-${chatId}-${message.id}`}
          class={`msg ${mine ? 'mine' : 'theirs'}${grouped ? ' grouped' : ''}${message.deleted ? ' deleted' : ''}${highlighted === message.id ? ' found' : ''}`}
          data-state={mine ? (entry?.state ?? 'sent') : undefined}
          data-client-id={message.clientId}
          data-id={message.id}
        >
          <div class={grouped ? 'msg-meta visually-hidden' : 'msg-meta'}>
            <span class="msg-from">{mine ? t('you') : nameOf(message.from)}</span>
            <time dateTime={message.sentAt}>{formatTime(message.sentAt)}</time>
          </div>
          {message.deleted ? (
            <div class="msg-text msg-deleted">{t('messageDeleted')}</div>
          ) : isEditing ? (
            <form
              class="msg-edit"
              onSubmit={(e) => {
                e.preventDefault();
                saveEdit();
              }}
            >
              <label class="visually-hidden" for={`edit-${message.clientId}`}>
                {t('edit')}
              </label>
              <textarea
                id={`edit-${message.clientId}`}
                value={editing.text}
                rows={2}
                maxLength={LIMITS.messageChars}
                aria-describedby={`edit-hint-${message.clientId}`}
                onInput={(e) => setEditing({ clientId: message.clientId, text: e.currentTarget.value })}
                onKeyDown={(e) => {
                  if (e.key === 'Escape') {
                    e.preventDefault();
                    e.stopPropagation();
                    setEditing(undefined);
                    input.current?.focus();
                  } else if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
                    e.preventDefault();
                    saveEdit();
                  }
                }}
              />
              <div class="msg-edit-actions">
                <span id={`edit-hint-${message.clientId}`} class="hint">
                  {t('editHint')}
                </span>
                <button type="button" class="small" onClick={() => setEditing(undefined)}>
                  {t('cancel')}
                </button>
                <button type="submit" class="small primary" disabled={!editing.text.trim()}>
                  {t('save')}
                </button>
              </div>
            </form>
          ) : (
            <>
              {message.text && <MessageText text={message.text} />}
              {message.files && message.files.length > 0 && <MessageFiles files={message.files} url={(p) => backend.fileUrl(p)} onOpen={setViewing} onLoad={keepAtBottom} />}
              {message.editedAt && (
                <span class="msg-edited" title={formatTime(message.editedAt)}>
                  {t('edited')}
                </span>
              )}
            </>
          )}
          {!message.deleted && message.reactions && message.reactions.length > 0 && (
            <ul class="reactions" aria-label={t('addReaction')}>
              {message.reactions.map((r) => {
                const minePressed = r.users.some((u) => u.toLowerCase() === me);
                const who = t('reactedBy', { names: joinNames(r.users.map((u) => (u.toLowerCase() === me ? t('you') : nameOf(u)))), emoji: r.emoji });
                return (
                  <li key={r.emoji}>
                    <button type="button" class="reaction" aria-pressed={minePressed} title={who} data-emoji={r.emoji} onClick={() => react(message, r.emoji)}>
                      <span class="reaction-emoji">{r.emoji}</span>
                      <span class="reaction-count">{r.users.length}</span>
                      <span class="visually-hidden">{who}</span>
                    </button>
                  </li>
                );
              })}
            </ul>
          )}
          {!message.deleted && !isEditing && canWrite && (
            <div class="msg-actions" role="toolbar" aria-label={t('messageActions')}>
              {QUICK_REACTIONS.slice(0, 3).map((emoji) => (
                <button key={emoji} type="button" class="icon quick-reaction" aria-label={t('reactWith', { emoji })} title={t('reactWith', { emoji })} onClick={() => react(message, emoji)}>
                  {emoji}
                </button>
              ))}
              <button type="button" class="icon add-reaction" aria-label={t('addReaction')} title={t('addReaction')} aria-expanded={picker === message.id} onClick={() => setPicker(picker === message.id ? undefined : message.id)}>
                <Icon name="smile" size={16} />
              </button>
              {mine && (
                <>
                  <button type="button" class="icon edit-message" aria-label={t('edit')} title={t('edit')} onClick={() => setEditing({ clientId: message.clientId, text: message.text })}>
                    <Icon name="edit" size={16} />
                  </button>
                  <button type="button" class="icon delete-message" aria-label={t('deleteMessage')} title={t('deleteMessage')} onClick={() => setConfirmDelete(message)}>
                    <Icon name="trash" size={16} />
                  </button>
                </>
              )}
            </div>
          )}
          {picker === message.id && (
            <EmojiPicker
              label={t('addReaction')}
              onPick={(emoji) => {
                setPicker(undefined);
                react(message, emoji);
              }}
              onClose={() => setPicker(undefined)}
            />
          )}
          {mine && message.state === 'held' && (
            <div class="msg-state msg-held" data-held="true">
              <Icon name="pause" size={12} /> {t('messageHeld')}
            </div>
          )}
          {mine && index === latestMine && !message.deleted && message.state !== 'held' && (
            <div class="msg-state" data-seen={seenByPartner ? 'true' : undefined}>
              {waiting.length ? (
                <span class="waiting">{t('waitingAccept', { names: joinNames(waiting) })}</span>
              ) : seenByPartner ? (
                <span class="seen">{t('seen')}</span>
              ) : (
                <>
                  <span aria-hidden="true">✓ </span>
                  {t('sent')}
                </>
              )}
            </div>
          )}
        </li>,
      );
    } else {
      const { entry } = row;
      items.push(
        <li key={row.key} class={`msg mine pending${grouped ? ' grouped' : ''}`} data-state={entry.state} data-client-id={entry.clientId}>
          <div class={grouped ? 'msg-meta visually-hidden' : 'msg-meta'}>
            <span class="msg-from">{t('you')}</span>
            <time dateTime={entry.createdAt}>{formatTime(entry.createdAt)}</time>
          </div>
          {entry.text && <MessageText text={entry.text} />}
          {entry.files && entry.files.length > 0 && (
            <ul class="msg-files pending-files">
              {entry.files.map((f) => (
                <li key={f.id} class="file-card">
                  <span class="file-card-name">{f.name}</span>
                </li>
              ))}
            </ul>
          )}
          <div class="msg-state">
            {entry.state === 'failed' ? (
              <>
                <span class="failed">
                  {t('failed')}
                  {entry.errorMessage || entry.error ? `: ${entry.errorMessage ?? entry.error}` : ''}
                </span>{' '}
                <button type="button" class="small" onClick={() => void backend.retry(entry.clientId)}>
                  {t('retry')}
                </button>{' '}
                <button type="button" class="small discard" onClick={() => void backend.discard(entry.clientId)}>
                  {t('discard')}
                </button>
              </>
            ) : (
              <span>{t('sending')}</span>
            )}
          </div>
        </li>,
      );
    }
    if (row.kind !== 'message') return;
    for (const line of memberLines.filter((l) => l.after === row.message.id)) {
      items.push(memberLine(line));
      previous = undefined;
    }
  });
  for (const line of memberLines.filter((l) => l.after === undefined || !messageIds.has(l.after))) items.push(memberLine(line));

  function saveEdit() {
    if (!editing) return;
    const target = messages.find((m) => m.clientId === editing.clientId);
    const body = editing.text.replace(/\s+$/, '');
    setEditing(undefined);
    input.current?.focus();
    if (!target || !body.trim() || body === target.text) return;
    backend.edit(chatId, editing.clientId, body).then(
      (m) => setMessages((old) => old.map((x) => (x.id === m.id ? { ...m, ...(x.files ? { files: x.files } : {}) } : x))),
      (err: Error) => setError(err.message),
    );
  }

  function react(message: Message, emoji: string) {
    const mineAlready = message.reactions?.some((r) => r.emoji === emoji && r.users.some((u) => u.toLowerCase() === me)) ?? false;
    backend.react(chatId, message.id, emoji, !mineAlready).then(
      (m) => setMessages((old) => old.map((x) => (x.id === m.id ? withReactions(x, m.reactions ?? []) : x))),
      (err: Error) => setError(err.message),
    );
  }

  const remove = (message: Message) => {
    setConfirmDelete(undefined);
    backend.remove(chatId, message.clientId).then(
      () => setMessages((old) => old.map((x) => (x.id === message.id ? { id: x.id, chatId: x.chatId, clientId: x.clientId, from: x.from, sentAt: x.sentAt, text: '', deleted: true } : x))),
      (err: Error) => setError(err.message),
    );
  };

  const typingNames = Object.keys(typing).map((u) => nameOf(chat?.members.find((m) => m.username.toLowerCase() === u)?.username ?? u));
  const over = text.length - LIMITS.messageChars;

  const leave = async () => {
    setConfirmLeave(false);
    await backend.leave(chatId).catch((err: Error) => setError(err.message));
    onLeft?.();
    onClose?.();
  };

  return (
    <section
      class="chat"
      aria-labelledby={titleId}
      data-chat={chatId}
      onDragOver={(e) => {
        if (!canWrite || !e.dataTransfer?.types.includes('Files')) return;
        e.preventDefault();
        setDragging(true);
      }}
      onDragLeave={(e) => {
        if (e.currentTarget === e.target) setDragging(false);
      }}
      onDrop={(e) => {
        setDragging(false);
        const files = [...(e.dataTransfer?.files ?? [])];
        if (!files.length || !canWrite) return;
        e.preventDefault();
        attach(files);
      }}
    >
      {banner && <OfflineBanner state={conn.state} retryAt={() => backend.retryAt?.()} onRetry={() => backend.pollNow?.()} />}
      <header class="chat-header">
        {onClose && (
          <button type="button" class="icon back" onClick={onClose} aria-label={beside ? t('close') : t('back')} title={beside ? t('close') : t('back')}>
            <Icon name={beside ? 'close' : 'back'} size={20} />
          </button>
        )}
        <ChatPartnerAvatar backend={backend} chat={chat} />
        <div class="chat-heading">
          <h1 id={titleId} class="chat-title" title={title}>
            <span class="visually-hidden">{title}</span>
            <span aria-hidden="true">{names || t('loading')}</span>
          </h1>
          {subtitle && (
            <span class="chat-presence" data-state={subtitle.state} title={subtitle.text}>
              <span class={`dot dot-${subtitle.state ?? 'offline'}`} aria-hidden="true" />
              <span class="chat-presence-text">{subtitle.text}</span>
            </span>
          )}
          <ChatPartnerStatus backend={backend} chat={chat} />
        </div>
        {/* The actions wrap under the name when the header is narrow (docked): the name stays readable. */}
        <div class="chat-actions">
          {canAddPeople(backend, chat, myStatus) && <AddPeopleButton open={adding} onToggle={() => setAdding(!adding)} />}
          <ChatMuteToggle backend={backend} chatId={chatId} names={names} />
          {popOutHref && (
            <button
              type="button"
              class="icon"
              aria-label={t('popOut')}
              title={t('popOut')}
              onClick={() => {
                const w = window.open(popOutHref, `portico-chat-${chatId}`, 'popup,width=420,height=640');
                if (w) onClose?.();
              }}
            >
              <Icon name="popout" size={18} />
            </button>
          )}
          {chat && backend.startCall && myStatus === 'accepted' && chat.state === 'active' && !chat.call && (
            <button
              type="button"
              class="small call-audio"
              title={t('audioCallWith', { names })}
              aria-label={t('audioCallWith', { names })}
              onClick={() =>
                void backend.startCall?.(chatId, false).then(
                  (problem) => setError(problem),
                  (err: Error) => setError(err.message),
                )
              }
            >
              <Icon name="phone" size={16} />
            </button>
          )}
          {chat && backend.startCall && myStatus === 'accepted' && chat.state === 'active' && (
            <button
              type="button"
              class="small call-start"
              title={t('callWith', { names })}
              onClick={() =>
                void backend.startCall?.(chatId).then(
                  (problem) => setError(problem),
                  (err: Error) => setError(err.message),
                )
              }
            >
              <Icon name="video" size={16} /> {t('call')}
            </button>
          )}
          {chat && myStatus === 'accepted' && chat.state !== 'closed' && (
            <button type="button" class="small danger leave" aria-expanded={confirmLeave} onClick={() => setConfirmLeave(!confirmLeave)}>
              {t('leave')}
            </button>
          )}
        </div>
      </header>
      {chat && backend.joinCall && myStatus === 'accepted' && (
        <JoinCallBar chat={chat} me={backend.me} onJoin={() => backend.joinCall!(chatId).then((problem) => problem && setError(problem), (err: Error) => setError(err.message))} />
      )}
      {adding && chat && canAddPeople(backend, chat, myStatus) && <AddPeopleBar backend={backend} chat={chat} onDone={() => setAdding(false)} />}
      {confirmLeave && (
        <div class="confirm-bar" role="alertdialog" aria-labelledby={`leave-q-${chatId}`}>
          <p id={`leave-q-${chatId}`}>{t('leaveConfirm')}</p>
          <div class="confirm-actions">
            <button type="button" class="danger-solid confirm-leave" onClick={() => void leave()}>
              {t('leave')}
            </button>
            <button type="button" onClick={() => setConfirmLeave(false)}>
              {t('cancel')}
            </button>
          </div>
        </div>
      )}
      {chat && chat.members.length > 2 && (
        <div class="members" aria-label={t('members')} role="group">
          <span class="members-label">{t('members')}:</span>
          <ul class="member-list">
            {chat.members.map((m) => (
              <li key={m.username} class={`member member-${m.status}`}>
                {m.displayName}
                <span class="member-status"> ({t(MEMBER_LABEL[m.status] ?? 'memberInvited')})</span>
              </li>
            ))}
          </ul>
        </div>
      )}
      {error && (
        <p class="form-error" role="alert">
          {error}
        </p>
      )}
      <div class="messages" ref={list} onScroll={onScroll} role="log" aria-live="polite" aria-label={t('messages')} tabIndex={0}>
        <ol class="message-list">
          <li class="history-edge">
            {before !== undefined ? (
              <button type="button" class="link-button" onClick={() => void loadOlder()} disabled={loadingOlder}>
                {loadingOlder ? t('loading') : t('loadEarlier')}
              </button>
            ) : loaded ? (
              <span>{t('beginning')}</span>
            ) : (
              <span>{t('loading')}</span>
            )}
          </li>
          {items}
        </ol>
      </div>
      <p class="typing-line" aria-live="polite">
        {typingNames.length === 1 ? t('typing', { name: typingNames[0]! }) : typingNames.length > 1 ? t('typingMany', { names: joinNames(typingNames) }) : ''}
      </p>
      {chat?.state === 'closed' && (
        <p class="chat-closed" role="status">
          {t('chatClosed')}
        </p>
      )}
      <form
        class={`composer${dragging ? ' dragging' : ''}`}
        onSubmit={(e) => {
          e.preventDefault();
          send();
        }}
      >
        {attachments.length > 0 && (
          <ul class="attachments" aria-label={t('attachments')}>
            {attachments.map((a) => (
              <li key={a.key} class={`attachment${a.error ? ' failed' : ''}`} data-done={a.id ? 'true' : undefined}>
                <span class="attachment-name">{a.name}</span>
                <span class="attachment-size">{formatSize(a.size)}</span>
                {a.error ? (
                  <span class="attachment-error">{t('uploadFailed', { message: a.error })}</span>
                ) : (
                  !a.id && <progress max={a.size || 1} value={a.sent} aria-label={t('uploading', { name: a.name })} />
                )}
                <button type="button" class="icon small" aria-label={t('removeFile', { name: a.name })} title={t('removeFile', { name: a.name })} onClick={() => setAttachments((old) => old.filter((x) => x.key !== a.key))}>
                  <Icon name="close" size={14} />
                </button>
              </li>
            ))}
          </ul>
        )}
        <label class="visually-hidden" for={`composer-${chatId}`}>
          {t('typeMessage')}
        </label>
        <textarea
          id={`composer-${chatId}`}
          ref={input}
          rows={2}
          value={text}
          disabled={!canWrite}
          placeholder={t('typePlaceholder')}
          aria-describedby={`hint-${chatId}`}
          onInput={(e) => {
            setText(e.currentTarget.value);
            const now = Date.now();
            if (e.currentTarget.value.trim() && now - lastTyping.current >= TYPING_EVERY_MS) {
              lastTyping.current = now;
              backend.typing(chatId).catch(() => {});
            }
          }}
          onKeyDown={onKeyDown}
          onPaste={(e) => {
            const files = [...(e.clipboardData?.files ?? [])];
            if (files.length && canWrite) {
              e.preventDefault();
              attach(files);
            }
          }}
        />
        <span id={`hint-${chatId}`} class="visually-hidden">
          {t('typeHint')}
        </span>
        <input
          ref={fileInput}
          type="file"
          multiple
          class="visually-hidden file-input"
          tabIndex={-1}
          aria-hidden="true"
          onChange={(e) => {
            const files = [...(e.currentTarget.files ?? [])];
            e.currentTarget.value = '';
            attach(files);
          }}
        />
        <div class="composer-tools">
          <button type="button" class="icon attach-button" disabled={!canWrite} aria-label={t('attachFile')} title={t('attachFile')} onClick={() => fileInput.current?.click()}>
            <Icon name="attach" size={18} />
          </button>
          <button type="button" class="icon emoji-button" disabled={!canWrite} aria-label={t('addEmoji')} title={t('addEmoji')} aria-expanded={picker === 'composer'} onClick={() => setPicker(picker === 'composer' ? undefined : 'composer')}>
            <Icon name="smile" size={18} />
          </button>
          {text.length > LIMITS.messageChars - COUNTER_FROM && (
            <span class={`char-count${over > 0 ? ' over' : ''}`} role="status">
              {over > 0 ? t('tooLong', { count: over }) : t('charsLeft', { count: -over })}
            </span>
          )}
        </div>
        <button type="submit" class="primary" disabled={!canWrite || (!text.trim() && !ready.length) || over > 0 || uploading}>
          {t('send')}
        </button>
        {picker === 'composer' && (
          <EmojiPicker
            onPick={(emoji) => {
              const el = input.current;
              const start = el?.selectionStart ?? text.length;
              const end = el?.selectionEnd ?? text.length;
              setText(text.slice(0, start) + emoji + text.slice(end));
              setPicker(undefined);
              requestAnimationFrame(() => {
                el?.focus();
                el?.setSelectionRange(start + emoji.length, start + emoji.length);
              });
            }}
            onClose={() => setPicker(undefined)}
          />
        )}
      </form>
      {viewing && (
        <Dialog id={`image-${chatId}`} title={viewing.name} onClose={() => setViewing(undefined)} class="lightbox">
          <img class="lightbox-image" src={backend.fileUrl(viewing.url)} alt={viewing.name} />
          <p class="lightbox-actions">
            <a href={backend.fileUrl(viewing.url)} download={viewing.name}>
              {t('download')} ({formatSize(viewing.size)})
            </a>
          </p>
        </Dialog>
      )}
      {confirmDelete && (
        <Dialog id={`delete-${chatId}`} title={t('deleteConfirmTitle')} onClose={() => setConfirmDelete(undefined)} class="confirm-delete">
          <p>{t('deleteConfirm')}</p>
          <div class="dialog-preview">{confirmDelete.text}</div>
          <div class="confirm-actions">
            <button type="button" onClick={() => setConfirmDelete(undefined)}>
              {t('cancel')}
            </button>
            <button type="button" class="danger-solid confirm-delete-button" onClick={() => remove(confirmDelete)}>
              {t('deleteMessage')}
            </button>
          </div>
        </Dialog>
      )}
    </section>
  );
}
