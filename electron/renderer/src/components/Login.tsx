/** Sign-in: the server is this page's own origin; user ID, password, remember me. */
import { useState } from 'preact/hooks';
import { ApiError, type PorticoClient } from '../api/index.js';
import { t, type Language } from '../i18n.js';
import { askNotificationPermission, clientInfo } from '../platform.js';
import { LanguagePicker } from './LanguagePicker.js';

export function Login(props: { client: PorticoClient; notice?: string | undefined; onSignedIn: () => void; lang: Language; onLanguage: (l: Language) => void }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [remember, setRemember] = useState(true);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();

  const submit = async (event: Event) => {
    event.preventDefault();
    if (busy) return;
    askNotificationPermission();
    setBusy(true);
    setError(undefined);
    try {
      await props.client.login(username.trim(), password, remember, await clientInfo());
      props.onSignedIn();
    } catch (err) {
      const message = err instanceof ApiError && err.code === 'invalid_credentials' ? t('badCredentials') : t('loginFailed', { message: (err as Error).message });
      setError(message);
      setBusy(false);
    }
  };

  return (
    <main class="login" aria-labelledby="login-title">
      <div class="login-brand" aria-hidden="true">
        <img src="/app/icon.svg" alt="" width={40} height={40} />
      </div>
      <h1 id="login-title">{t('signInTitle')}</h1>
      {props.notice && (
        <p class="notice-line" role="status">
          {props.notice}
        </p>
      )}
      <form onSubmit={submit} class="login-form">
        <div class="field">
          <span class="label" id="server-label">
            {t('server')}
          </span>
          <output class="server" aria-labelledby="server-label">
            {location.host}
          </output>
        </div>
        <label class="field">
          <span class="label">{t('userId')}</span>
          <input
            name="username"
            autoComplete="username"
            autoCapitalize="none"
            spellcheck={false}
            required
            value={username}
            onInput={(e) => setUsername(e.currentTarget.value)}
            autoFocus
          />
        </label>
        <label class="field">
          <span class="label">{t('password')}</span>
          <input name="password" type="password" autoComplete="current-password" required value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
        </label>
        <label class="check">
          <input type="checkbox" name="remember" checked={remember} onChange={(e) => setRemember(e.currentTarget.checked)} />
          <span>{t('rememberMe')}</span>
        </label>
        {error && (
          <p class="form-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" class="primary" disabled={busy}>
          {busy ? t('signingIn') : t('signIn')}
        </button>
      </form>
      <LanguagePicker lang={props.lang} onLanguage={props.onLanguage} />
    </main>
  );
}
