/**
 * A chat's history sharing (issue 18; docs/calls.md): what people added to a running chat later
 * read. 'all' (the default): its whole history; 'since_added': only what was said after they were
 * added (history, search, unread counts, the preview, and messages by id). A call's transfer
 * target always reads all of it.
 *
 * This file imports only zod: shared/schemas.ts imports it (Chat, the chat.updated event).
 */
import { z } from 'zod';

export const ChatHistory = z.enum(['all', 'since_added']);
export type ChatHistory = z.infer<typeof ChatHistory>;

/** PATCH /api/v1/chats/:id: a chat's settings (any member taking part in a group chat). */
export const UpdateChatRequest = z.strictObject({
  history: ChatHistory,
});
export type UpdateChatRequest = z.infer<typeof UpdateChatRequest>;
