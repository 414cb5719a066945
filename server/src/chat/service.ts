/** Chat requests, membership and messages, with the subscription bookkeeping they imply. */
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { CALL_LIMITS, chatStateOf, TIMINGS, topicOf, type Chat, type Message } from '../../../shared/index.js';
import { AppError, conflict, forbidden, notFound } from '../errors.js';
import type { EventHub } from '../events/hub.js';
import type { Subscriptions } from '../events/subscriptions.js';
import type { ServerSecret } from '../secrets.js';
import type { ChatRecord, SessionRecord, Store, UserRecord } from '../store/store.js';
import { ringOnAccept } from '../calls/call-state.js';
import { signFiles } from './files.js';
import { deleteMessage, editMessage, markRead, moveMember, putMessage, react, requestChat } from './rules.js';

export class ChatService {
  /** One typing notice relayed per user and chat per TIMINGS.typingRelayMs; the rest are dropped. */
  private readonly typingRelays = new RateLimiterMemory({ points: 1, duration: TIMINGS.typingRelayMs / 1000 });

  constructor(
    private readonly store: Store,
    private readonly subscriptions: Subscriptions,
    private readonly hub: EventHub,
    private readonly secret: ServerSecret,
  ) {}

  /** The message as answered: its files with fresh signed paths. */
  readonly present = (message: Message): Message => signFiles(this.secret, message);

  /** A new chat, or (`created` false) the active 1:1 chat the creator already has with the one invitee. */
  async request(creator: UserRecord, inviteeNames: string[]): Promise<{ chat: Chat; created: boolean }> {
    const names = [...new Map(inviteeNames.map((n) => [n.toLowerCase(), n])).values()];
    const invitees: UserRecord[] = [];
    for (const name of names) {
      const user = await this.store.userByName(name);
      if (!user) throw new AppError(400, 'invalid_request', `invitees: there is no user ${name}`);
      if (user.id === creator.id) throw new AppError(400, 'invalid_request', 'invitees: you cannot invite yourself');
      invitees.push(user);
    }
    const result = await this.store.write((tx) => requestChat(tx, creator.id, invitees.map((u) => u.id)));
    if (result.created) this.subscriptionsChanged(creator.id);
    return result;
  }

  /** Accepting while a call runs in the chat rings the new member into it (docs/calls.md). */
  async accept(user: UserRecord, chatId: string) {
    const chat = await this.store.write(async (tx) => {
      const accepted = await moveMember(tx, chatId, user.id, ['invited'], 'accepted');
      await ringOnAccept(tx, chatId, user.id, CALL_LIMITS.members);
      return accepted;
    });
    this.subscriptionsChanged(user.id);
    return chat;
  }

  decline(user: UserRecord, chatId: string) {
    return this.store.write((tx) => moveMember(tx, chatId, user.id, ['invited'], 'declined'));
  }

  async leave(user: UserRecord, chatId: string) {
    const chat = await this.store.write((tx) => moveMember(tx, chatId, user.id, ['invited', 'accepted'], 'left'));
    this.subscriptionsChanged(user.id);
    return chat;
  }

  /** The chat, if the user is or was a member of it. */
  async view(user: UserRecord, chatId: string): Promise<ChatRecord> {
    const record = await this.store.chatById(chatId);
    if (!record) throw notFound('chat');
    if (!record.memberStatus.has(user.id)) throw forbidden('you are not a member of this chat');
    return record;
  }

  /** History is for those taking part, and for those invited (they see what was said while the chat was pending). */
  async history(user: UserRecord, chatId: string, before: number | undefined, limit: number) {
    const record = await this.view(user, chatId);
    const status = record.memberStatus.get(user.id);
    if (status !== 'accepted' && status !== 'invited') throw forbidden('only members taking part in the chat can read it');
    // A message held during a call's hold is its author's alone until the call resumes (docs/calls.md).
    // A member added later reads what the chat's history setting shares with them (docs/calls.md).
    return (await this.store.messages(chatId, before, limit, user.id)).filter((m) => m.state !== 'held' || m.from === user.username).map(this.present);
  }

  /** The sending session's own poll is not woken for the message (see StoredEvent.origin). */
  send({ user, tokenId }: SessionRecord, chatId: string, clientId: string, body: { text?: string; files?: string[] }) {
    const { text = '', files } = body;
    return this.store.write((tx) => putMessage(tx, { chatId, fromUserId: user.id, fromUsername: user.username, fromTokenId: tokenId, clientId, text, files }, this.present), { chatId });
  }

  edit({ user, tokenId }: SessionRecord, chatId: string, clientId: string, text: string) {
    return this.store.write((tx) => editMessage(tx, { chatId, userId: user.id, tokenId, clientId, text }), { chatId }).then(this.present);
  }

  delete({ user, tokenId }: SessionRecord, chatId: string, clientId: string) {
    return this.store.write((tx) => deleteMessage(tx, { chatId, userId: user.id, tokenId, clientId }), { chatId });
  }

  react({ user, tokenId }: SessionRecord, chatId: string, messageId: number, emoji: string, add: boolean) {
    return this.store.write((tx) => react(tx, { chatId, userId: user.id, tokenId, messageId, emoji, add }), { chatId }).then(this.present);
  }

  read({ user, tokenId }: SessionRecord, chatId: string, upTo: number) {
    return this.store.write((tx) => markRead(tx, { chatId, userId: user.id, tokenId, upTo }), { chatId });
  }

  /**
   * Tells the others taking part that the user is typing: chat.typing, handed only to the polls
   * held right now and never stored (it is stale in seconds; the log would grow by every key
   * press). Relayed at most once per TIMINGS.typingRelayMs per user and chat; more are dropped.
   */
  async typing(user: UserRecord, chatId: string) {
    const record = await this.view(user, chatId);
    if (record.memberStatus.get(user.id) !== 'accepted') throw forbidden('you are not taking part in this chat');
    if (chatStateOf(record.memberStatus.values()) === 'closed') throw conflict('chat_not_active', 'this chat has ended');
    try {
      await this.typingRelays.consume(`${user.id}:${chatId}`);
    } catch {
      return; // relayed moments ago
    }
    const body = JSON.stringify({ type: 'chat.typing', at: new Date().toISOString(), chatId, username: user.username });
    this.hub.signal(topicOf.chat(chatId), body, user.id);
  }

  /** The user now takes part in other chats: their held poll re-polls with the new topics. */
  private subscriptionsChanged(userId: number) {
    this.subscriptions.changed(userId);
  }
}
