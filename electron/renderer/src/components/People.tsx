/** Find people in the directory and add them to my contacts (GET /users?q=, PUT /contacts/:username). */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Contact, User } from '../api/index.js';
import { t } from '../i18n.js';
import type { PanelModel } from '../model.js';
import { Dialog } from './Dialog.js';
import { Icon } from './Icon.js';

const DEBOUNCE_MS = 250;

export function People({ model, contacts, onClose }: { model: PanelModel; contacts: Contact[]; onClose: () => void }) {
  const [q, setQ] = useState('');
  const [results, setResults] = useState<User[] | undefined>();
  const [busy, setBusy] = useState<string | undefined>();
  const asked = useRef(0);
  useEffect(() => {
    const query = q.trim();
    if (!query) {
      setResults(undefined);
      return;
    }
    const mine = ++asked.current;
    const timer = setTimeout(() => {
      model.searchUsers(query).then(
        (users) => mine === asked.current && setResults(users),
        () => mine === asked.current && setResults([]),
      );
    }, DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [q, model]);
  const me = model.username.toLowerCase();
  const personal = new Set(contacts.filter((c) => c.personal).map((c) => c.username.toLowerCase()));
  const shown = (results ?? []).filter((u) => u.username.toLowerCase() !== me);

  return (
    <Dialog id="people" title={t('searchPeople')} onClose={onClose} class="people-dialog">
      <label class="search-field">
        <Icon name="search" size={16} />
        <span class="visually-hidden">{t('searchLabel')}</span>
        <input type="search" name="people-search" value={q} placeholder={t('searchPlaceholder')} autoComplete="off" onInput={(e) => setQ(e.currentTarget.value)} />
      </label>
      <div class="people-results" aria-live="polite">
        {results !== undefined && shown.length === 0 && <p class="empty">{t('noMatches')}</p>}
        {shown.length > 0 && (
          <ul class="people-list">
            {shown.map((u) => {
              const added = personal.has(u.username.toLowerCase());
              return (
                <li key={u.username} class="person" data-username={u.username}>
                  <span class="avatar" aria-hidden="true">
                    {initials(u.displayName)}
                  </span>
                  <span class="person-text">
                    <span class="person-name">{u.displayName}</span>
                    <span class="person-id">{u.username}</span>
                  </span>
                  {added ? (
                    <span class="person-added">{t('inContacts')}</span>
                  ) : (
                    <button
                      type="button"
                      class="small primary person-add"
                      disabled={busy === u.username}
                      aria-label={t('addName', { name: u.displayName })}
                      onClick={async () => {
                        setBusy(u.username);
                        await model.addContact(u.username);
                        setBusy(undefined);
                      }}
                    >
                      {t('add')}
                    </button>
                  )}
                </li>
              );
            })}
          </ul>
        )}
      </div>
    </Dialog>
  );
}

/** Up to two letters of a name, for the round placeholder of a picture. */
export function initials(name: string): string {
  const parts = name.trim().split(/\s+/).filter(Boolean);
  const letters = parts.length > 1 ? [parts[0]!, parts[parts.length - 1]!].map((p) => [...p][0]) : [...(parts[0] ?? '?')].slice(0, 2);
  return letters.join('').toUpperCase();
}
