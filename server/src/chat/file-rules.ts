/** The rules of files in chats, over the store's write transaction (see rules.ts). */
import { AppError, notFound } from '../errors.js';
import type { ChatFileRecord, StoreTx } from '../store/store.js';

/** A new file of a chat: only members taking part may upload (others are told there is no such chat). */
export async function addChatFile(tx: StoreTx, file: ChatFileRecord) {
  if ((await tx.memberStatuses(file.chatId)).find(([id]) => id === file.uploaderId)?.[1] !== 'accepted') throw notFound('chat');
  await tx.insertChatFile(file);
}

/** A message of this chat may carry only files of this chat, each once: else 400 unknown_file / invalid_request. */
export async function checkAttachable(tx: StoreTx, chatId: string, fileIds: string[]) {
  if (new Set(fileIds).size !== fileIds.length) throw new AppError(400, 'invalid_request', 'files: each file may be named once');
  const found = new Map((await tx.chatFiles(fileIds)).map((f) => [f.id, f.chatId]));
  for (const id of fileIds) {
    if (found.get(id) !== chatId) throw new AppError(400, 'unknown_file', `files: ${id} is not a file of this chat (upload it here first: POST /api/v1/chats/:id/files)`);
  }
}

/** Same files in the same order (a retried send). */
export const sameFiles = (a: readonly string[] | undefined, b: readonly string[] | undefined) => (a ?? []).join('\n') === (b ?? []).join('\n');
