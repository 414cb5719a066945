/** Installed clients (terminals, seats) and the client updates the server offers. */
import type { AdminApi } from '../api/admin.js';
import { formatDate, ta } from './strings.js';
import { AdminTable, ConfirmButton, ErrorLine, Loading, useAction, useLoad } from './ui.js';

export function Terminals({ api }: { api: AdminApi }) {
  const terminals = useLoad(api.terminals);
  const action = useAction(terminals.reload);
  const seats = terminals.data?.seats;
  return (
    <section class="admin-section" aria-labelledby="admin-terminals">
      <h2 id="admin-terminals">{ta('terminals')}</h2>
      <ErrorLine error={action.error} />
      <Loading error={terminals.error} ready={terminals.data !== undefined}>
        {seats && <p>{ta('seats', { used: seats.used, limit: seats.limit ?? ta('unlimited') })}</p>}
        {terminals.data?.terminals.length === 0 && <p class="admin-muted">{ta('none')}</p>}
        {terminals.data && terminals.data.terminals.length > 0 && (
          <AdminTable columns={[ta('installId'), ta('user'), ta('version'), ta('platform'), ta('lastSeen')]} actions={ta('remove')}>
              {terminals.data.terminals.map((t) => (
                <tr key={t.installId}>
                  <td>
                    <code>{t.installId}</code>
                  </td>
                  <td>{t.username ?? '—'}</td>
                  <td>{t.version}</td>
                  <td>{t.platform}</td>
                  <td>{formatDate(t.lastSeen)}</td>
                  <td class="admin-actions">
                    <ConfirmButton label={ta('remove')} question={ta('removeTerminalQ', { id: t.installId })} onConfirm={() => void action.run(() => api.removeTerminal(t.installId))} />
                  </td>
                </tr>
              ))}
            </AdminTable>
        )}
      </Loading>
    </section>
  );
}

export function Updates({ api }: { api: AdminApi }) {
  const updates = useLoad(api.updates);
  return (
    <section class="admin-section" aria-labelledby="admin-updates">
      <h2 id="admin-updates">{ta('updates')}</h2>
      <Loading error={updates.error} ready={updates.data !== undefined}>
        {updates.data?.enabled === false && <p class="admin-muted">{ta('updatesDisabled')}</p>}
        {updates.data?.updates.length === 0 && <p class="admin-muted">{ta('none')}</p>}
        {updates.data && updates.data.updates.length > 0 && (
          <AdminTable columns={[ta('manifest'), ta('version'), ta('files'), ta('signature')]}>
              {updates.data.updates.map((u) => (
                <tr key={u.manifest}>
                  <td>{u.manifest}</td>
                  <td>{u.version}</td>
                  <td>{u.files.join(', ')}</td>
                  <td>{u.signature ?? 'none'}</td>
                </tr>
              ))}
            </AdminTable>
        )}
        <p class="admin-muted">{ta('publishHint')}</p>
      </Loading>
    </section>
  );
}
