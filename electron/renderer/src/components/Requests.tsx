/** Incoming chat requests: a prompt with Accept / Decline for each, on top of the panel. */
import { useEffect, useRef } from 'preact/hooks';
import type { Chat } from '../api/index.js';
import { t } from '../i18n.js';
import type { PanelModel } from '../model.js';
import { Avatar } from './Avatar.js';

export function Requests({ model, requests }: { model: PanelModel; requests: Chat[] }) {
  if (requests.length === 0) return null;
  return (
    <div class="requests">
      {requests.map((chat) => (
        <Request key={chat.id} model={model} chat={chat} />
      ))}
    </div>
  );
}

function Request({ model, chat }: { model: PanelModel; chat: Chat }) {
  const acceptRef = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    // Bring the keyboard to the prompt unless the user is typing somewhere.
    const active = document.activeElement;
    if (!active || active === document.body || !/^(INPUT|TEXTAREA|SELECT)$/.test(active.tagName)) acceptRef.current?.focus();
  }, []);
  const titleId = `req-${chat.id}`;
  const from = chat.members.find((m) => m.username === chat.createdBy);
  return (
    <div class="request" role="alertdialog" aria-labelledby={titleId} aria-describedby={`${titleId}-text`} data-chat={chat.id}>
      <div class="request-head">
        {from && <Avatar username={from.username} displayName={from.displayName} avatarUrl={from.avatarUrl} size={32} />}
        <h2 id={titleId}>{t('chatRequest')}</h2>
      </div>
      <p id={`${titleId}-text`}>{model.requestText(chat)}</p>
      {chat.lastMessage && !chat.lastMessage.deleted && (chat.lastMessage.text || chat.lastMessage.files?.length) ? (
        <p class="request-preview">
          <span class="visually-hidden">{t('lastMessage')}: </span>
          {chat.lastMessage.text ? chat.lastMessage.text.slice(0, 200) : chat.lastMessage.files!.map((f) => f.name).join(', ')}
        </p>
      ) : null}
      <div class="request-actions">
        <button type="button" class="primary" ref={acceptRef} onClick={() => void model.accept(chat.id)}>
          {t('accept')}
        </button>
        <button type="button" onClick={() => void model.decline(chat.id)}>
          {t('decline')}
        </button>
      </div>
    </div>
  );
}
