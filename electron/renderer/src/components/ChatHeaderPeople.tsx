/**
 * What issue 17 adds to a chat's header, kept out of ChatView: the partner's picture and status
 * message, and my mute toggle for the chat. Both follow their events (user.updated, chat.muted).
 */
import { useEffect, useState } from 'preact/hooks';
import type { Chat, UserStatus } from '../api/index.js';
import { t } from '../i18n.js';
import type { ChatBackend } from '../window-bridge.js';
import { Avatar, StatusText } from './Avatar.js';
import { Icon } from './Icon.js';

/** The one other member of a two-person chat, if so. */
function partnerOf(chat: Chat | undefined, me: string) {
  const others = chat?.members.filter((m) => m.username.toLowerCase() !== me.toLowerCase()) ?? [];
  return others.length === 1 ? others[0] : undefined;
}

export function ChatPartnerAvatar({ backend, chat }: { backend: ChatBackend; chat: Chat | undefined }) {
  const partner = partnerOf(chat, backend.me);
  const [avatarUrl, setAvatarUrl] = useState<string | undefined>(partner?.avatarUrl);
  useEffect(() => setAvatarUrl(partner?.avatarUrl), [partner?.avatarUrl]);
  useEffect(
    () =>
      backend.on('user.updated', (e: { user: { username: string; avatarUrl?: string } }) => {
        if (partner && e.user.username.toLowerCase() === partner.username.toLowerCase()) setAvatarUrl(e.user.avatarUrl);
      }),
    [backend, partner?.username],
  );
  if (!partner) return null;
  return <Avatar username={partner.username} displayName={partner.displayName} avatarUrl={avatarUrl} size={32} />;
}

export function ChatPartnerStatus({ backend, chat }: { backend: ChatBackend; chat: Chat | undefined }) {
  const partner = partnerOf(chat, backend.me);
  const [status, setStatus] = useState<UserStatus | undefined>();
  useEffect(() => {
    if (!partner || !backend.statuses) return;
    let alive = true;
    const ask = () => void backend.statuses?.().then((all) => alive && setStatus(all[partner.username.toLowerCase()]), () => {});
    ask();
    const off = backend.on('user.updated', (e: { user: { username: string; status?: UserStatus } }) => {
      if (e.user.username.toLowerCase() === partner.username.toLowerCase()) setStatus(e.user.status);
    });
    return () => {
      alive = false;
      off();
    };
  }, [backend, partner?.username]);
  return <StatusText status={status} class="chat-status" />;
}

export function ChatMuteToggle({ backend, chatId, names }: { backend: ChatBackend; chatId: string; names: string }) {
  const [muted, setMuted] = useState(false);
  useEffect(() => {
    if (!backend.muted) return;
    let alive = true;
    void backend.muted(chatId).then((m) => alive && setMuted(m), () => {});
    const off = backend.on('chat.muted', (e: { mute: { chatId: string; muted: boolean } }) => {
      if (e.mute.chatId === chatId) setMuted(e.mute.muted);
    });
    return () => {
      alive = false;
      off();
    };
  }, [backend, chatId]);
  if (!backend.mute) return null;
  const label = muted ? t('unmuteChat', { names }) : t('muteChat', { names });
  return (
    <button
      type="button"
      class="icon chat-mute"
      aria-pressed={muted}
      aria-label={label}
      title={label}
      onClick={() =>
        void backend.mute?.(chatId, !muted).then(
          () => void backend.muted?.(chatId).then(setMuted, () => {}),
          () => {},
        )
      }
    >
      <Icon name={muted ? 'muted' : 'bell'} size={18} />
    </button>
  );
}
