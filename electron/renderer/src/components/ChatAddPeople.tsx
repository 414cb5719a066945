/**
 * Add people… in a chat's header (issue 18, outside a call): my contacts not yet in the chat, and
 * what those added read (its whole history or only from now on). Each one gets a chat request;
 * a two-person chat becomes a group by it, as the call's Add people… does (model.addPeople).
 */
import { useEffect, useState } from 'preact/hooks';
import type { Chat } from '../api/index.js';
import { t } from '../i18n.js';
import type { ChatBackend } from '../window-bridge.js';
import { AddPeoplePicker } from './CallState.js';
import { Icon } from './Icon.js';

/** Whether this view can add people: a panel behind it, and I take part in a chat that goes on. */
export const canAddPeople = (backend: ChatBackend, chat: Chat | undefined, myStatus: string | undefined) =>
  !!backend.addPeople && !!backend.contacts && !!chat && myStatus === 'accepted' && chat.state !== 'closed';

export function AddPeopleButton({ open, onToggle }: { open: boolean; onToggle: () => void }) {
  return (
    <button type="button" class="icon chat-add-people" aria-expanded={open} aria-label={t('addToChat')} title={t('addToChat')} onClick={onToggle}>
      <Icon name="personAdd" size={18} />
    </button>
  );
}

/** The picker under the header; closes itself once the people are invited. */
export function AddPeopleBar({ backend, chat, onDone }: { backend: ChatBackend; chat: Chat; onDone: () => void }) {
  const [contacts, setContacts] = useState<Array<{ username: string; displayName: string }> | undefined>();
  useEffect(() => {
    let alive = true;
    backend.contacts?.().then((c) => alive && setContacts(c), () => alive && setContacts([]));
    return () => {
      alive = false;
    };
  }, [backend]);
  if (!contacts) return null;
  // Those invited or taking part already are not offered again (who declined or left may be).
  const inChat = new Set(chat.members.filter((m) => m.status === 'accepted' || m.status === 'invited').map((m) => m.username.toLowerCase()));
  const people = contacts.filter((c) => !inChat.has(c.username.toLowerCase()));
  return (
    <div class="chat-add-bar">
      <AddPeoplePicker
        people={people}
        history={chat.history}
        hint={t('addPeopleChatHint')}
        class="chat-add-picker"
        onCancel={onDone}
        onAdd={async (usernames, history) => {
          const problem = await backend.addPeople!(chat.id, usernames, history);
          if (!problem) onDone();
        }}
      />
    </div>
  );
}
