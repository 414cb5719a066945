/** Groups and their members: everyone in a group sees the others as contacts. */
import { useState } from 'preact/hooks';
import type { AdminApi } from '../api/admin.js';
import { ta } from './strings.js';
import { ConfirmButton, ErrorLine, InlineAdd, Loading, useAction, useLoad } from './ui.js';

export function Groups({ api }: { api: AdminApi }) {
  const groups = useLoad(api.groups);
  const action = useAction(groups.reload);
  const [name, setName] = useState('');
  const [displayName, setDisplayName] = useState('');
  return (
    <section class="admin-section" aria-labelledby="admin-groups">
      <h2 id="admin-groups">{ta('groups')}</h2>
      <form
        class="admin-form"
        aria-label={ta('addGroup')}
        onSubmit={async (e) => {
          e.preventDefault();
          if (await action.run(() => api.addGroup(name.trim(), displayName.trim() || undefined))) {
            setName('');
            setDisplayName('');
          }
        }}
      >
        <label class="field">
          <span class="label">{ta('groupName')}</span>
          <input value={name} required autoComplete="off" onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <label class="field">
          <span class="label">{ta('displayName')}</span>
          <input value={displayName} autoComplete="off" onInput={(e) => setDisplayName(e.currentTarget.value)} />
        </label>
        <button type="submit" class="primary" disabled={action.busy || !name.trim()}>
          {ta('addGroup')}
        </button>
      </form>
      <ErrorLine error={action.error} />
      <Loading error={groups.error} ready={groups.data !== undefined}>
        {groups.data?.length === 0 && <p class="admin-muted">{ta('none')}</p>}
        {groups.data?.map((group) => (
          <article key={group.name} class="admin-card" aria-label={group.displayName}>
            <header class="admin-card-head">
              <h3>
                {group.displayName} <span class="admin-muted">({group.name})</span>
              </h3>
              <ConfirmButton label={ta('remove')} question={ta('removeGroupQ', { name: group.name })} onConfirm={() => void action.run(() => api.removeGroup(group.name))} />
            </header>
            <ul class="admin-chips" aria-label={ta('members')}>
              {group.members.map((member) => (
                <li key={member} class="admin-chip">
                  <span>{member}</span>
                  <ConfirmButton
                    label={ta('remove')}
                    question={ta('removeMemberQ', { user: member, group: group.name })}
                    onConfirm={() => void action.run(() => api.removeMember(group.name, member))}
                  />
                </li>
              ))}
            </ul>
            <InlineAdd label={ta('addMember')} busy={action.busy} onAdd={(username) => action.run(() => api.addMember(group.name, username))} />
          </article>
        ))}
      </Loading>
    </section>
  );
}
