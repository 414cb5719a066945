/**
 * The admin console at /app/#/admin: the admin API in pages (users, groups, providers, channels,
 * links, terminals, updates), for administrators only. It has no powers of its own: the server
 * answers 403 to anyone else, and the console says so instead of showing empty pages.
 */
import { useEffect, useMemo, useState } from 'preact/hooks';
import { AdminApi } from '../api/admin.js';
import type { PorticoClient } from '../api/index.js';
import { Login } from '../components/Login.js';
import { language, setLanguage, type Language } from '../i18n.js';
import { saveLanguageSetting } from '../platform.js';
import { Groups } from './Groups.js';
import { Terminals, Updates } from './Installs.js';
import { Channels, LinksArea, Providers } from './Portal.js';
import { ta } from './strings.js';
import { Users } from './Users.js';
import { LanguagePicker } from '../components/LanguagePicker.js';
import './admin.css';

const TABS = ['users', 'groups', 'providers', 'channels', 'links', 'terminals', 'updates'] as const;
type Tab = (typeof TABS)[number];

/** `#/admin/<tab>`: a reload or a bookmark comes back to the same page. */
function tabFromHash(): Tab {
  const name = /^#\/admin\/(\w+)$/.exec(location.hash)?.[1];
  return (TABS as readonly string[]).includes(name ?? '') ? (name as Tab) : 'users';
}

export function isAdminRoute(hash: string) {
  return /^#\/admin(\/\w+)?$/.test(hash);
}

export function AdminApp({ client }: { client: PorticoClient }) {
  const api = useMemo(() => new AdminApi(client), [client]);
  const [phase, setPhase] = useState<'restoring' | 'login' | 'denied' | 'console'>('restoring');
  const [me, setMe] = useState('');
  const [tab, setTab] = useState<Tab>(tabFromHash());
  const [lang, setLang] = useState<Language>(language());

  const check = () =>
    api.me().then(
      (user) => {
        setMe(user.username);
        setPhase(user.isAdmin ? 'console' : 'denied');
      },
      () => setPhase('login'),
    );
  useEffect(() => {
    client.restore().then(
      (user) => (user ? void check() : setPhase('login')),
      () => setPhase('login'),
    );
    return client.on('auth', () => setPhase('login'));
  }, [client]);
  useEffect(() => {
    document.title = ta('title');
  }, [lang]);

  const changeLanguage = (next: Language) => {
    setLanguage(next);
    saveLanguageSetting(next);
    setLang(next);
  };
  const choose = (next: Tab) => {
    setTab(next);
    history.replaceState(null, '', `#/admin/${next}`);
  };

  if (phase === 'restoring') return <div class="splash" role="status">{ta('loading')}</div>;
  if (phase === 'login') return <Login client={client} onSignedIn={() => void check()} lang={lang} onLanguage={changeLanguage} />;
  if (phase === 'denied') {
    return (
      <main class="admin admin-denied">
        <h1>{ta('title')}</h1>
        <p role="alert">{ta('notAdmin')}</p>
        <a href="./">{ta('backToPanel')}</a>
      </main>
    );
  }
  return (
    <main class="admin">
      <header class="admin-header">
        <h1>{ta('title')}</h1>
        <div class="admin-header-end">
          <LanguagePicker lang={lang} onLanguage={changeLanguage} />
          <a class="admin-back" href="./">
            {ta('backToPanel')}
          </a>
        </div>
      </header>
      <div class="admin-body">
        <nav class="admin-nav" aria-label={ta('tabs')}>
          <ul role="tablist" aria-orientation="vertical">
            {TABS.map((name) => (
              <li key={name} role="presentation">
                <button type="button" role="tab" id={`tab-${name}`} aria-selected={tab === name} aria-controls="admin-page" class="admin-tab" onClick={() => choose(name)}>
                  {ta(name)}
                </button>
              </li>
            ))}
          </ul>
        </nav>
        <div id="admin-page" class="admin-page" role="tabpanel" aria-labelledby={`tab-${tab}`}>
          {tab === 'users' && <Users api={api} me={me} />}
          {tab === 'groups' && <Groups api={api} />}
          {tab === 'providers' && <Providers api={api} />}
          {tab === 'channels' && <Channels api={api} />}
          {tab === 'links' && <LinksArea api={api} />}
          {tab === 'terminals' && <Terminals api={api} />}
          {tab === 'updates' && <Updates api={api} />}
        </div>
      </div>
    </main>
  );
}
