/**
 * Contacts with live presence (click one to ask for a chat, or tick several and press Chat), the
 * groups each comes from, removal of my own ones, and the open conversations. Until the server's
 * list is in, a loading state (or the cached list) instead of "no contacts".
 */
import { useState } from 'preact/hooks';
import type { Chat, Contact, PresenceState } from '../api/index.js';
import { t } from '../i18n.js';
import type { PanelModel } from '../model.js';
import { isMuted } from '../api/index.js';
import { Avatar, StatusText } from './Avatar.js';
import { LiveCallBadge } from './CallState.js';
import { Icon } from './Icon.js';

const ORDER: Record<PresenceState, number> = { available: 0, busy: 1, away: 2, offline: 3 };

export function presenceLabel(state: PresenceState) {
  return t(state);
}

export function Contacts({ model, contacts, loaded, onAddPeople }: { model: PanelModel; contacts: Contact[]; loaded: boolean; onAddPeople: () => void }) {
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
        <button type="button" class="small add-people" onClick={onAddPeople}>
          <Icon name="plus" size={14} /> {t('addPeople')}
        </button>
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
      {sorted.length === 0 && !loaded ? (
        <p class="empty loading-line" role="status">
          {t('loadingContacts')}
        </p>
      ) : sorted.length === 0 ? (
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
              <button type="button" class="contact-main" onClick={() => void model.requestChat([c.username])}>
                <span class="avatar-wrap">
                  <Avatar username={c.username} displayName={c.displayName} avatarUrl={c.avatarUrl} size={28} />
                  <span class={`dot dot-${c.presence}`} aria-hidden="true" />
                </span>
                <span class="visually-hidden">{t('chatAction')} </span>
                <span class="contact-text">
                  <span class="contact-name">{c.displayName}</span>
                  <StatusText status={c.status} class="contact-status" />
                  {c.groups.length > 0 && <span class="contact-groups">{t('viaGroups', { groups: c.groups.join(', ') })}</span>}
                </span>
                <span class="contact-state">{presenceLabel(c.presence)}</span>
              </button>
              {c.personal ? (
                <button type="button" class="icon contact-remove" aria-label={t('removeContact', { name: c.displayName })} title={t('removeContact', { name: c.displayName })} onClick={() => void model.removeContact(c.username)}>
                  <Icon name="close" size={14} />
                </button>
              ) : (
                <span class="contact-remove-slot" aria-hidden="true" />
              )}
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
          const muted = isMuted(chat);
          const partner = chat.members.find((m) => m.username.toLowerCase() !== me);
          return (
            <li key={chat.id} class={muted ? 'muted' : undefined}>
              <button type="button" class="conv" onClick={() => model.openChat(chat.id)} data-chat={chat.id} data-muted={muted ? 'true' : undefined}>
                {partner && <Avatar username={partner.username} displayName={partner.displayName} avatarUrl={chat.members.length === 2 ? partner.avatarUrl : undefined} size={24} />}
                <span class="conv-name">{names}</span>
                {chat.state === 'pending' && <span class="conv-state">{t('waiting')}</span>}
                <LiveCallBadge chat={chat} me={me} />
                {muted && (
                  <span class="conv-muted" title={t('mutedChat')}>
                    <Icon name="muted" size={14} />
                    <span class="visually-hidden">{t('mutedChat')}</span>
                  </span>
                )}
                {count > 0 && (
                  <span class={`badge${muted ? ' badge-muted' : ''}`} aria-label={t('unread', { count })}>
                    {count}
                  </span>
                )}
              </button>
              <button
                type="button"
                class="icon conv-mute"
                aria-pressed={muted}
                aria-label={muted ? t('unmuteChat', { names }) : t('muteChat', { names })}
                title={muted ? t('unmuteChat', { names }) : t('muteChat', { names })}
                onClick={() => void model.muteChat(chat.id, !muted)}
              >
                <Icon name={muted ? 'muted' : 'bell'} size={16} />
              </button>
            </li>
          );
        })}
      </ul>
    </section>
  );
}
