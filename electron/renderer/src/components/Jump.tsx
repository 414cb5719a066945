/**
 * Ctrl+K: type a name, Enter goes to that person's chat (asking for one if there is none) or to
 * that conversation; messages that hold the words are listed below (the server's search), and
 * choosing one opens its chat at that message.
 */
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { Chat, Contact, SearchResults } from '../api/index.js';
import { around, segments } from '../chat/highlight.js';
import { formatDay, formatTime, t } from '../i18n.js';
import type { PanelModel } from '../model.js';
import { Dialog } from './Dialog.js';
import { Icon } from './Icon.js';

interface Target {
  key: string;
  label: string;
  /** What is shown instead of the label (a message hit with its matches marked). */
  node?: ComponentChildren;
  detail: string;
  go: () => void;
}

/** Search as one types, after this pause. */
const SEARCH_PAUSE_MS = 250;

type Hit = SearchResults['messages'][number];

function HitText({ hit }: { hit: Hit }) {
  const cut = around(hit.text, hit.highlights);
  return (
    <span class="hit-text">
      {segments(cut.text, cut.ranges).map((s, i) => (s.mark ? <mark key={i}>{s.text}</mark> : s.text))}
    </span>
  );
}

export function Jump({ model, contacts, chats, onClose }: { model: PanelModel; contacts: Contact[]; chats: Record<string, Chat>; onClose: () => void }) {
  const [q, setQ] = useState('');
  const [active, setActive] = useState(0);
  const [hits, setHits] = useState<{ q: string; messages: Hit[] } | undefined>();
  const me = model.username.toLowerCase();
  const query = q.trim().toLowerCase();
  useEffect(() => {
    if (query.length < 2) return;
    let alive = true;
    const timer = setTimeout(() => {
      model.client.searchMessages(query, { limit: 20 }).then(
        (answer) => alive && setHits({ q: query, messages: answer.messages }),
        () => alive && setHits({ q: query, messages: [] }),
      );
    }, SEARCH_PAUSE_MS);
    return () => {
      alive = false;
      clearTimeout(timer);
    };
  }, [model, query]);
  const targets: Target[] = [];
  for (const chat of Object.values(chats)) {
    const status = chat.members.find((m) => m.username.toLowerCase() === me)?.status;
    if (chat.state === 'closed' || status !== 'accepted') continue;
    const names = model.othersIn(chat);
    if (names.length < 2) continue; // one person: reached through the contact
    targets.push({ key: `chat-${chat.id}`, label: names.join(', '), detail: t('conversations'), go: () => model.openChat(chat.id) });
  }
  for (const c of contacts) targets.push({ key: `user-${c.username}`, label: c.displayName, detail: t(c.presence), go: () => void model.requestChat([c.username]) });
  const matches = targets.filter((x) => !query || x.label.toLowerCase().includes(query) || x.key.toLowerCase().includes(query)).slice(0, 8);
  const found = query.length >= 2 && hits?.q === query ? hits.messages : [];
  for (const hit of found) {
    const chat = chats[hit.chatId];
    const where = chat ? model.othersIn(chat).join(', ') : '';
    const who = hit.from.toLowerCase() === me ? t('you') : chat ? model.nameIn(chat, hit.from) : hit.from;
    matches.push({
      key: `msg-${hit.id}`,
      label: hit.text,
      node: (
        <>
          <span class="hit-head">
            <span class="hit-chat">{where}</span>
            {who !== where && ` · ${who}`} · <time dateTime={hit.sentAt}>{`${formatDay(hit.sentAt)} ${formatTime(hit.sentAt)}`}</time>
          </span>
          <HitText hit={hit} />
        </>
      ),
      detail: '',
      go: () => model.openChat(hit.chatId, hit.id),
    });
  }
  const current = Math.min(active, Math.max(matches.length - 1, 0));
  const choose = (target: Target | undefined) => {
    if (!target) return;
    onClose();
    target.go();
  };

  return (
    <Dialog id="jump" title={t('jumpTo')} onClose={onClose} class="jump-dialog">
      <label class="search-field">
        <Icon name="search" size={16} />
        <span class="visually-hidden">{t('jumpTo')}</span>
        <input
          type="text"
          name="jump"
          role="combobox"
          aria-expanded="true"
          aria-controls="jump-list"
          aria-activedescendant={matches[current] ? `jump-${matches[current]!.key}` : undefined}
          autoComplete="off"
          value={q}
          placeholder={t('jumpPlaceholder')}
          onInput={(e) => {
            setQ(e.currentTarget.value);
            setActive(0);
          }}
          onKeyDown={(e) => {
            if (e.key === 'ArrowDown') {
              e.preventDefault();
              setActive(Math.min(current + 1, matches.length - 1));
            } else if (e.key === 'ArrowUp') {
              e.preventDefault();
              setActive(Math.max(current - 1, 0));
            } else if (e.key === 'Enter' && !e.isComposing) {
              e.preventDefault();
              choose(matches[current]);
            }
          }}
        />
      </label>
      <ul id="jump-list" class="jump-list" role="listbox" aria-label={t('jumpTo')}>
        {matches.map((x, i) => (
          <li key={x.key} id={`jump-${x.key}`} role="option" aria-selected={i === current} class={x.node ? 'jump-item jump-hit' : 'jump-item'} onClick={() => choose(x)} onMouseEnter={() => setActive(i)}>
            {x.node ?? (
              <>
                <span class="jump-label">{x.label}</span>
                <span class="jump-detail">{x.detail}</span>
              </>
            )}
          </li>
        ))}
        {matches.length === 0 && <li class="empty" role="option" aria-selected={false} aria-disabled="true">{t('noMatches')}</li>}
      </ul>
    </Dialog>
  );
}
