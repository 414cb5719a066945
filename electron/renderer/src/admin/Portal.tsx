/** The portal's sources: content providers (keys shown once), channels, the links area. */
import { useEffect, useState } from 'preact/hooks';
import type { AdminApi, AdminProvider } from '../api/admin.js';
import { Links } from '../components/Links.js';
import { ta } from './strings.js';
import { AdminTable, ConfirmButton, ErrorLine, InlineAdd, Loading, SecretOnce, splitList, useAction, useLoad } from './ui.js';

export function Providers({ api }: { api: AdminApi }) {
  const providers = useLoad(api.providers);
  const action = useAction(providers.reload);
  const [secret, setSecret] = useState<{ name: string; key: string } | undefined>();
  const [name, setName] = useState('');
  const [channels, setChannels] = useState('');
  const [signed, setSigned] = useState(false);
  const withKey = async (make: () => Promise<{ provider: AdminProvider; key: string }>) => {
    let made: { provider: AdminProvider; key: string } | undefined;
    const ok = await action.run(async () => (made = await make()));
    if (ok && made) setSecret({ name: made.provider.name, key: made.key });
    return ok;
  };
  return (
    <section class="admin-section" aria-labelledby="admin-providers">
      <h2 id="admin-providers">{ta('providers')}</h2>
      <form
        class="admin-form"
        aria-label={ta('addProvider')}
        onSubmit={async (e) => {
          e.preventDefault();
          if (await withKey(() => api.addProvider(name.trim(), splitList(channels), signed))) {
            setName('');
            setChannels('');
            setSigned(false);
          }
        }}
      >
        <label class="field">
          <span class="label">{ta('providerName')}</span>
          <input value={name} required autoComplete="off" onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <label class="field">
          <span class="label">{ta('channelsList')}</span>
          <input value={channels} required autoComplete="off" onInput={(e) => setChannels(e.currentTarget.value)} />
        </label>
        <label class="check">
          <input type="checkbox" checked={signed} onChange={(e) => setSigned(e.currentTarget.checked)} />
          {ta('requireSignature')}
        </label>
        <button type="submit" class="primary" disabled={action.busy || !name.trim() || !channels.trim()}>
          {ta('addProvider')}
        </button>
      </form>
      <ErrorLine error={action.error} />
      {secret && <SecretOnce title={ta('keyOnce', { name: secret.name })} value={secret.key} onDone={() => setSecret(undefined)} />}
      <Loading error={providers.error} ready={providers.data !== undefined}>
        {providers.data?.length === 0 && <p class="admin-muted">{ta('none')}</p>}
        {providers.data?.map((p) => (
          <article key={p.name} class="admin-card" aria-label={p.name}>
            <header class="admin-card-head">
              <h3>
                {p.name} {p.requireSignature && <span class="admin-tag">{ta('signed')}</span>}
              </h3>
              <div class="admin-actions">
                <ConfirmButton label={ta('rotateKey')} danger={false} question={ta('rotateKeyQ', { name: p.name })} onConfirm={() => void withKey(() => api.rotateKey(p.name))} />
                <ConfirmButton label={ta('remove')} question={ta('removeProviderQ', { name: p.name })} onConfirm={() => void action.run(() => api.removeProvider(p.name))} />
              </div>
            </header>
            <InlineAdd
              key={p.channels.join(',')}
              label={`${ta('channelsList')} (${p.name})`}
              initial={p.channels.join(', ')}
              submit={ta('setChannels')}
              busy={action.busy}
              onAdd={(list) => action.run(() => api.setProviderChannels(p.name, splitList(list)))}
            />
          </article>
        ))}
      </Loading>
    </section>
  );
}

export function Channels({ api }: { api: AdminApi }) {
  const channels = useLoad(api.channels);
  const action = useAction(channels.reload);
  return (
    <section class="admin-section" aria-labelledby="admin-channels">
      <h2 id="admin-channels">{ta('channels')}</h2>
      <ErrorLine error={action.error} />
      <Loading error={channels.error} ready={channels.data !== undefined}>
        {channels.data?.length === 0 && <p class="admin-muted">{ta('none')}</p>}
        <AdminTable columns={[ta('channels'), ta('channelTitle'), ta('isDefault')]}>
            {channels.data?.map((c) => (
              <tr key={c.name}>
                <td>{c.name}</td>
                <td>
                  <form
                    class="admin-row"
                    onSubmit={(e) => {
                      e.preventDefault();
                      const title = new FormData(e.currentTarget).get('title');
                      if (typeof title === 'string' && title.trim()) void action.run(() => api.updateChannel(c.name, { title: title.trim() }));
                    }}
                  >
                    <label class="admin-inline-field">
                      <span class="visually-hidden">{`${ta('channelTitle')} (${c.name})`}</span>
                      <input name="title" defaultValue={c.title} />
                    </label>
                    <button type="submit" class="small" disabled={action.busy}>
                      {ta('save')}
                    </button>
                  </form>
                </td>
                <td>
                  <label class="check">
                    <input type="checkbox" checked={c.isDefault} disabled={action.busy} onChange={(e) => void action.run(() => api.updateChannel(c.name, { isDefault: e.currentTarget.checked }))} />
                    <span class="visually-hidden">{`${ta('isDefault')} (${c.name})`}</span>
                  </label>
                </td>
              </tr>
            ))}
          </AdminTable>
      </Loading>
    </section>
  );
}

export function LinksArea({ api }: { api: AdminApi }) {
  const links = useLoad(api.links);
  const action = useAction(links.reload);
  const [html, setHtml] = useState('');
  const [saved, setSaved] = useState(false);
  useEffect(() => {
    if (links.data) setHtml(links.data.html);
  }, [links.data]);
  return (
    <section class="admin-section" aria-labelledby="admin-links">
      <h2 id="admin-links">{ta('links')}</h2>
      <p class="admin-muted">{ta('linksHelp')}</p>
      <Loading error={links.error} ready={links.data !== undefined}>
        <form
          class="admin-form admin-form-wide"
          onSubmit={async (e) => {
            e.preventDefault();
            setSaved(await action.run(() => api.setLinks(html)));
          }}
        >
          <label class="field">
            <span class="label">HTML</span>
            <textarea rows={8} value={html} onInput={(e) => (setHtml(e.currentTarget.value), setSaved(false))} />
          </label>
          <div class="admin-row">
            <button type="submit" class="primary" disabled={action.busy}>
              {ta('save')}
            </button>
            {saved && <span role="status">{ta('saved')}</span>}
          </div>
        </form>
        <ErrorLine error={action.error} />
        <h3>{ta('preview')}</h3>
        <div class="admin-preview">
          <Links html={links.data?.html ?? ''} />
        </div>
      </Loading>
    </section>
  );
}
