/** Contacts with live presence (click one to ask for a chat, or tick several and press Chat), and the open conversations. */
import { useState } from 'preact/hooks';
import type { Chat, Contact, PresenceState } from '../api/index.js';
import { t } from '../i18n.js';
import type { PanelModel } from '../model.js';

const ORDER: Record<PresenceState, number> = { available: 0, busy: 1, away: 2, offline: 3 };

export function presenceLabel(state: PresenceState) {
  return t(state);
}

export function Contacts({ model, contacts }: { model: PanelModel; contacts: Contact[] }) {
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const sorted = [...contacts].sort((a, b) => ORDER[a.presence] - ORDER[b.presence] || a.displayName.localeCompare(b.displayName));
  const toggle = (username: string, on: boolean) => {
    const next = new Set(selected);
    if (on) next.add(username);
    else next.delete(username);
    setSelected(next);
  };
  const chosen = [...selected].filter((u) => contacts.some((c) => c.username === u));

  return (
    <section class="area contacts" aria-labelledby="contacts-title">
      <div class="area-head">
        <h2 id="contacts-title">{t('contacts')}</h2>
        <button
          type="button"
          class="small primary"
          disabled={chosen.length === 0}
          aria-label={t('startChatWith', { count: chosen.length })}
          onClick={async () => {
            if (await model.requestChat(chosen)) setSelected(new Set());
          }}
        >
          {t('startChat')}
          {chosen.length > 0 ? ` (${chosen.length})` : ''}
        </button>
      </div>
      {sorted.length === 0 ? (
        <p class="empty">{t('noContacts')}</p>
      ) : (
        <ul class="contact-list">
          {sorted.map((c) => (
            <li key={c.username} class={`contact presence-${c.presence}`} data-username={c.username}>
              <input
                type="checkbox"
                checked={selected.has(c.username)}
                onChange={(e) => toggle(c.username, e.currentTarget.checked)}
                aria-label={t('selectContact', { name: c.displayName })}
              />
              <button type="button" class="contact-main" onClick={() => void model.requestChat([c.username])} aria-label={`${t('chatWith', { name: c.displayName })} (${presenceLabel(c.presence)})`}>
                <span class={`dot dot-${c.presence}`} aria-hidden="true" />
                <span class="contact-name">{c.displayName}</span>
                <span class="contact-state" aria-hidden="true">
                  {presenceLabel(c.presence)}
                </span>
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

export function Conversations({ model, chats, unread }: { model: PanelModel; chats: Record<string, Chat>; unread: Record<string, number> }) {
  const me = model.username.toLowerCase();
  const mine = Object.values(chats).filter((chat) => {
    const status = chat.members.find((m) => m.username.toLowerCase() === me)?.status;
    return chat.state !== 'closed' && status === 'accepted';
  });
  if (mine.length === 0) return null;
  mine.sort((a, b) => (unread[b.id] ?? 0) - (unread[a.id] ?? 0) || b.createdAt.localeCompare(a.createdAt));
  return (
    <section class="area conversations" aria-labelledby="conv-title">
      <h2 id="conv-title">{t('conversations')}</h2>
      <ul class="conv-list">
        {mine.map((chat) => {
          const names = model.othersIn(chat).join(', ');
          const count = unread[chat.id] ?? 0;
          return (
            <li key={chat.id}>
              <button type="button" class="conv" onClick={() => model.openChat(chat.id)} data-chat={chat.id}>
                <span class="conv-name">{names}</span>
                {chat.state === 'pending' && <span class="conv-state">{t('waiting')}</span>}
                {count > 0 && (
                  <span class="badge" aria-label={t('unread', { count })}>
                    {count}
                  </span>
                )}
              </button>
            </li>
          );
        })}
      </ul>
    </section>
  );
}
