/** Files in chats and message search: the protocol (issue 16). */
import { z } from 'zod';

export const CHAT_FILE_LIMITS = {
  /** Longest file name kept (characters); longer names are cut. */
  nameChars: 255,
  /** Most files on one message. */
  filesPerMessage: 10,
  /** Longest search query (characters) and most terms in it. */
  searchChars: 200,
  searchTerms: 8,
  searchPage: 50,
  searchPageMax: 200,
} as const;

/** A file's id: 22 url-safe characters (128 random bits). */
export const ChatFileId = z.string().regex(/^[A-Za-z0-9_-]{22}$/, 'a file id as returned by the upload');

/** The API path of a chat file (or its thumbnail); members fetch it with their token, others need the signed `url`. */
export const chatFilePath = (chatId: string, fileId: string, thumbnail = false) =>
  `/api/v1/chats/${chatId}/files/${fileId}${thumbnail ? '/thumbnail' : ''}`;

export const ChatFile = z.strictObject({
  id: ChatFileId,
  name: z.string(),
  size: z.number().int(),
  /** What the bytes are (sniffed), never what the uploader said; application/octet-stream when unknown. */
  contentType: z.string(),
});
export type ChatFile = z.infer<typeof ChatFile>;

/** A file as a message carries it: `url` (and `thumbnailUrl`) are signed paths that work without a token for some hours. */
export const MessageFile = ChatFile.extend({
  url: z.string(),
  /** Images only: a small WebP of it (at most 320 × 320). */
  thumbnailUrl: z.string().optional(),
});
export type MessageFile = z.infer<typeof MessageFile>;

export const ChatFileUploadQuery = z.strictObject({
  name: z.string().max(1000).optional().describe('the file name (raw bodies); a multipart part says its own'),
});
export const ChatFileResponse = z.strictObject({ file: ChatFile });
export const ChatFileParams = z.strictObject({ id: z.string().uuid(), fileId: ChatFileId });

