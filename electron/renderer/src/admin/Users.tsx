/** Users: add (a generated password shown once), reset a password, remove, and a user's contacts. */
import { useState } from 'preact/hooks';
import { generatePassword, type AdminApi, type AdminUser } from '../api/admin.js';
import { t } from '../i18n.js';
import { formatDate, ta } from './strings.js';
import { AdminTable, ConfirmButton, ErrorLine, InlineAdd, Loading, SecretOnce, useAction, useLoad } from './ui.js';

export function Users({ api, me }: { api: AdminApi; me: string }) {
  const users = useLoad(api.users);
  const action = useAction(users.reload);
  const [secret, setSecret] = useState<{ name: string; password: string } | undefined>();
  const [open, setOpen] = useState<string | undefined>();
  const [username, setUsername] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [isAdmin, setIsAdmin] = useState(false);

  const add = async (e: Event) => {
    e.preventDefault();
    const password = generatePassword();
    const name = username.trim();
    const ok = await action.run(() => api.addUser({ username: name, password, isAdmin, ...(displayName.trim() ? { displayName: displayName.trim() } : {}) }));
    if (ok) {
      setSecret({ name, password });
      setUsername('');
      setDisplayName('');
      setIsAdmin(false);
    }
  };
  const reset = async (user: AdminUser) => {
    const password = generatePassword();
    if (await action.run(() => api.resetPassword(user.username, password))) setSecret({ name: user.username, password });
  };

  return (
    <section class="admin-section" aria-labelledby="admin-users">
      <h2 id="admin-users">{ta('users')}</h2>
      <form class="admin-form" onSubmit={add} aria-label={ta('addUser')}>
        <label class="field">
          <span class="label">{ta('username')}</span>
          <input value={username} required autoComplete="off" onInput={(e) => setUsername(e.currentTarget.value)} />
        </label>
        <label class="field">
          <span class="label">{ta('displayName')}</span>
          <input value={displayName} autoComplete="off" onInput={(e) => setDisplayName(e.currentTarget.value)} />
        </label>
        <label class="check">
          <input type="checkbox" checked={isAdmin} onChange={(e) => setIsAdmin(e.currentTarget.checked)} />
          {ta('admin')}
        </label>
        <button type="submit" class="primary" disabled={action.busy || !username.trim()}>
          {ta('addUser')}
        </button>
      </form>
      <ErrorLine error={action.error} />
      {secret && <SecretOnce title={ta('passwordOnce', { name: secret.name })} value={secret.password} onDone={() => setSecret(undefined)} />}
      <Loading error={users.error} ready={users.data !== undefined}>
        <AdminTable columns={[ta('username'), ta('displayName'), ta('source'), ta('presence'), ta('created')]} actions={ta('remove')}>
            {users.data?.map((user) => (
              <>
                <tr key={user.username}>
                  <td>
                    {user.username}
                    {user.isAdmin && <span class="admin-tag">{ta('admin')}</span>}
                  </td>
                  <td>{user.displayName}</td>
                  <td>
                    {ta(`source_${user.source}`)}
                    {user.disabled && <span class="admin-tag">{ta('disabledInDirectory')}</span>}
                  </td>
                  <td>
                    <span class={`dot dot-${user.presence}`} aria-hidden="true" /> {t(user.presence)}
                  </td>
                  <td>{formatDate(user.createdAt)}</td>
                  <td class="admin-actions">
                    <button type="button" class="small" aria-expanded={open === user.username} onClick={() => setOpen(open === user.username ? undefined : user.username)}>
                      {ta('contacts')}
                    </button>
                    {/* A directory or SSO account's password is not Portico's to set (the server refuses it too). */}
                    {user.source === 'local' && (
                      <ConfirmButton label={ta('resetPassword')} danger={false} question={ta('resetPasswordQ', { name: user.username })} onConfirm={() => void reset(user)} />
                    )}
                    <ConfirmButton
                      label={ta('remove')}
                      disabled={user.username === me}
                      question={ta('removeUserQ', { name: user.username })}
                      onConfirm={() => void action.run(() => api.removeUser(user.username))}
                    />
                  </td>
                </tr>
                {open === user.username && (
                  <tr key={`${user.username}-contacts`} class="admin-subrow">
                    <td colSpan={6}>
                      <UserContacts api={api} username={user.username} />
                    </td>
                  </tr>
                )}
              </>
            ))}
          </AdminTable>
      </Loading>
    </section>
  );
}

function UserContacts({ api, username }: { api: AdminApi; username: string }) {
  const contacts = useLoad(() => api.contactsOf(username));
  const action = useAction(contacts.reload);
  return (
    <div class="admin-sub">
      <h3>{ta('contactsOf', { name: username })}</h3>
      <Loading error={contacts.error} ready={contacts.data !== undefined}>
        {contacts.data?.length === 0 && <p class="admin-muted">{ta('none')}</p>}
        <ul class="admin-chips">
          {contacts.data?.map((c) => (
            <li key={c.username} class="admin-chip">
              <span>
                {c.displayName} <span class="admin-muted">({c.username})</span>
              </span>
              {c.groups.length > 0 && <span class="admin-muted"> {ta('viaGroups', { groups: c.groups.join(', ') })}</span>}
              {c.personal && (
                <ConfirmButton label={ta('remove')} question={`${c.username} ← ${username}`} onConfirm={() => void action.run(() => api.removeContact(username, c.username))} />
              )}
            </li>
          ))}
        </ul>
      </Loading>
      <InlineAdd label={ta('addContact')} busy={action.busy} onAdd={(contact) => action.run(() => api.addContact(username, contact))} />
      <ErrorLine error={action.error} />
    </div>
  );
}
