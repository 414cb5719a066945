/** Message search: the protocol (issue 16). */
import { z } from 'zod';
import { CHAT_FILE_LIMITS } from './chat-files.js';
import { ChatId, Message } from './schemas.js';

export const SearchQuery = z.strictObject({
  q: z
    .string()
    .max(CHAT_FILE_LIMITS.searchChars)
    .refine((q) => q.trim().length > 0, 'must not be empty'),
  chat: ChatId.optional(),
  /** A message id: only older messages (the last id of the previous page). */
  before: z.coerce.number().int().positive().optional(),
  limit: z.coerce.number().int().min(1).max(CHAT_FILE_LIMITS.searchPageMax).default(CHAT_FILE_LIMITS.searchPage),
});

/** Where the query matched the text: UTF-16 offsets (JavaScript string indices), `end` exclusive, sorted, not overlapping. */
export const Highlight = z.strictObject({ start: z.number().int(), end: z.number().int() });
export type Highlight = z.infer<typeof Highlight>;

/** A message that matched, with where: the client marks those ranges itself (as text, never HTML). */
export const SearchHit = Message.extend({ highlights: z.array(Highlight) });
export const SearchResponse = z.strictObject({
  messages: z.array(SearchHit).describe('newest first'),
  /** Pass as `before` for the next (older) page; absent on the last page. */
  before: z.number().int().optional(),
});
