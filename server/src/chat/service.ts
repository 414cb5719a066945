/** Chat requests, membership and messages, with the subscription bookkeeping they imply. */
import type { Chat, Message } from '../../../shared/index.js';
import { AppError, forbidden, notFound } from '../errors.js';
import type { Subscriptions } from '../events/subscriptions.js';
import type { ServerSecret } from '../secrets.js';
import type { ChatRecord, SessionRecord, Store, UserRecord } from '../store/store.js';
import { signFiles } from './files.js';
import { createChat, moveMember, putMessage } from './rules.js';

export class ChatService {
  constructor(
    private readonly store: Store,
    private readonly subscriptions: Subscriptions,
    private readonly secret: ServerSecret,
  ) {}

  /** The message as answered: its files with fresh signed paths. */
  readonly present = (message: Message): Message => signFiles(this.secret, message);

  async request(creator: UserRecord, inviteeNames: string[]): Promise<Chat> {
    const names = [...new Map(inviteeNames.map((n) => [n.toLowerCase(), n])).values()];
    const invitees: UserRecord[] = [];
    for (const name of names) {
      const user = await this.store.userByName(name);
      if (!user) throw new AppError(400, 'invalid_request', `invitees: there is no user ${name}`);
      if (user.id === creator.id) throw new AppError(400, 'invalid_request', 'invitees: you cannot invite yourself');
      invitees.push(user);
    }
    const chat = await this.store.write((tx) => createChat(tx, creator.id, invitees.map((u) => u.id)));
    this.subscriptionsChanged(creator.id);
    return chat;
  }

  async accept(user: UserRecord, chatId: string) {
    const chat = await this.store.write((tx) => moveMember(tx, chatId, user.id, ['invited'], 'accepted'));
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

  /** History is for those taking part. */
  async history(user: UserRecord, chatId: string, before: number | undefined, limit: number) {
    const record = await this.view(user, chatId);
    if (record.memberStatus.get(user.id) !== 'accepted') throw forbidden('only members taking part in the chat can read it');
    return (await this.store.messages(chatId, before, limit)).map(this.present);
  }

  /** The sending session's own poll is not woken for the message (see StoredEvent.origin). */
  send({ user, tokenId }: SessionRecord, chatId: string, clientId: string, body: { text?: string; files?: string[] }) {
    const { text = '', files } = body;
    return this.store.write((tx) => putMessage(tx, { chatId, fromUserId: user.id, fromTokenId: tokenId, clientId, text, files }, this.present));
  }

  /** The user now takes part in other chats: their held poll re-polls with the new topics. */
  private subscriptionsChanged(userId: number) {
    this.subscriptions.changed(userId);
  }
}
