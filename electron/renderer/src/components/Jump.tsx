/** Ctrl+K: type a name, Enter goes to that person's chat (asking for one if there is none) or to that conversation. */
import { useState } from 'preact/hooks';
import type { Chat, Contact } from '../api/index.js';
import { t } from '../i18n.js';
import type { PanelModel } from '../model.js';
import { Dialog } from './Dialog.js';
import { Icon } from './Icon.js';

interface Target {
  key: string;
  label: string;
  detail: string;
  go: () => void;
}

export function Jump({ model, contacts, chats, onClose }: { model: PanelModel; contacts: Contact[]; chats: Record<string, Chat>; onClose: () => void }) {
  const [q, setQ] = useState('');
  const [active, setActive] = useState(0);
  const me = model.username.toLowerCase();
  const query = q.trim().toLowerCase();
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
          <li key={x.key} id={`jump-${x.key}`} role="option" aria-selected={i === current} class="jump-item" onClick={() => choose(x)} onMouseEnter={() => setActive(i)}>
            <span class="jump-label">{x.label}</span>
            <span class="jump-detail">{x.detail}</span>
          </li>
        ))}
        {matches.length === 0 && <li class="empty" role="option" aria-selected={false} aria-disabled="true">{t('noMatches')}</li>}
      </ul>
    </Dialog>
  );
}
