/**
 * Message search: `GET /api/v1/search?q=&chat=&before=`. The query is split into terms at white
 * space (an ideographic space too); a message matches when its text holds every term (case-
 * insensitive substrings, so 会議 finds 明日の会議は10時 without a word splitter). Which index
 * serves it is the store's business (SQLite: trigrams, LIKE for terms under three characters).
 * Each hit says where the terms are (`highlights`, UTF-16 ranges): the client marks them itself,
 * as text; the server sends no markup.
 */
import { CHAT_FILE_LIMITS, SearchQuery, SearchResponse, type Highlight } from '../../../shared/index.js';
import type { Services } from '../context.js';
import { forbidden, notFound } from '../errors.js';
import { route } from '../http/route.js';
import { signFiles } from './files.js';

/** The distinct terms of a query (case-insensitively), at most CHAT_FILE_LIMITS.searchTerms. */
export function searchTerms(q: string): string[] {
  const seen = new Map<string, string>();
  for (const term of q.split(/\s+/u)) if (term && !seen.has(term.toLowerCase())) seen.set(term.toLowerCase(), term);
  return [...seen.values()].slice(0, CHAT_FILE_LIMITS.searchTerms);
}

/** Where the terms occur in the text: sorted, merged ranges. */
export function highlights(text: string, terms: string[]): Highlight[] {
  const ranges: Highlight[] = [];
  for (const term of terms) {
    const pattern = new RegExp(term.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&'), 'giu');
    for (const match of text.matchAll(pattern)) ranges.push({ start: match.index, end: match.index + match[0].length });
  }
  ranges.sort((a, b) => a.start - b.start || b.end - a.end);
  const merged: Highlight[] = [];
  for (const r of ranges) {
    const last = merged.at(-1);
    if (last && r.start <= last.end) last.end = Math.max(last.end, r.end);
    else merged.push({ ...r });
  }
  return merged;
}

export function searchRoutes({ store, secret }: Services) {
  return [
    route({
      method: 'get',
      path: '/api/v1/search',
      tag: 'chat',
      summary:
        'Search the messages of the chats I take part in (or of one, `chat`), newest first: every term of `q` must occur in the text ' +
        '(case-insensitive, any script: 会議 finds 明日の会議は10時). Each hit has `highlights`, the ranges to mark. Pass `before` for older hits.',
      access: 'user',
      query: SearchQuery,
      response: SearchResponse,
      errors: [403, 404],
      async handler({ query, session: { user } }) {
        if (query.chat) {
          const chat = await store.chatById(query.chat);
          if (!chat) throw notFound('chat');
          if (chat.memberStatus.get(user.id) !== 'accepted') throw forbidden('only members taking part in the chat can search it');
        }
        const terms = searchTerms(query.q);
        // One more than asked tells whether an older page exists.
        const found = await store.searchMessages(user.id, { terms, chatId: query.chat, before: query.before, limit: query.limit + 1 });
        const page = found.slice(0, query.limit);
        const now = Date.now();
        return {
          messages: page.map((m) => ({ ...signFiles(secret, m, now), highlights: highlights(m.text, terms) })),
          ...(found.length > query.limit ? { before: page.at(-1)!.id } : {}),
        };
      },
    }),
  ];
}
