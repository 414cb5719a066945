/**
 * Sign-in: the server is this page's own origin; user ID, password, remember me; and "Sign in
 * with <company>" when the server offers single sign-on (OpenID Connect): the page goes to the
 * server's /api/v1/sso/start, the provider's page, and comes back to /app/#sso=<one-time code>
 * (or #sso_error=<code>), which the panel trades for a session at once and takes off the address.
 */
import { useEffect, useState } from 'preact/hooks';
import { ApiError, type PorticoClient } from '../api/index.js';
import { t, type Language } from '../i18n.js';
import { askNotificationPermission, clientInfo, systemBrowserSso } from '../platform.js';
import { LanguagePicker } from './LanguagePicker.js';

/** "Remember me" as it was when single sign-on started (the page is left and comes back). */
const SSO_REMEMBER = 'portico.ssoRemember';

/** What the server's single sign-on callback left in the address (#sso=... or #sso_error=...), taken off it. */
export function takeSsoReturn(): { code?: string; error?: string } | undefined {
  const match = /^#sso(_error)?=([A-Za-z0-9_-]{1,4096})$/.exec(location.hash);
  if (!match) return undefined;
  // Out of the address bar and the history at once: the code is single-use, but need not linger.
  history.replaceState(null, '', location.pathname + location.search);
  return match[1] ? { error: match[2] } : { code: match[2] };
}

export async function ssoSignIn(client: PorticoClient, code: string) {
  const remember = sessionStorage.getItem(SSO_REMEMBER) !== 'false';
  sessionStorage.removeItem(SSO_REMEMBER);
  return client.ssoSignIn(code, remember, await clientInfo());
}

/** The login page's words for a single sign-on error code. */
export function ssoMessage(code: string, message?: string): string {
  switch (code) {
    case 'sso_unavailable':
      return t('ssoUnavailable');
    case 'sso_account_conflict':
      return t('ssoAccountConflict');
    case 'forbidden':
      return t('ssoDisabled');
    case 'sso_failed':
      return message ? t('ssoFailed', { message }) : t('ssoRefused');
    default:
      return message ? t('loginFailed', { message }) : t('ssoRefused');
  }
}

export function Login(props: { client: PorticoClient; notice?: string | undefined; onSignedIn: () => void; lang: Language; onLanguage: (l: Language) => void }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [remember, setRemember] = useState(true);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const [sso, setSso] = useState<string | undefined>();

  useEffect(() => {
    let alive = true;
    props.client.ssoInfo().then(
      (info) => alive && setSso(info.enabled ? (info.name ?? '') : undefined),
      () => undefined, // an older server, or none reachable: the password form alone
    );
    return () => {
      alive = false;
    };
  }, [props.client]);

  const startSso = async () => {
    if (busy) return;
    askNotificationPermission();
    setBusy(true);
    setError(undefined);
    const viaSystemBrowser = systemBrowserSso();
    if (!viaSystemBrowser) {
      // The page itself goes to the provider and comes back to /app/#sso=... (App takes it).
      sessionStorage.setItem(SSO_REMEMBER, String(remember));
      location.assign(props.client.ssoStartUrl());
      return;
    }
    try {
      const back = await viaSystemBrowser();
      if ('error' in back) throw new ApiError(400, back.error, '');
      await props.client.ssoSignIn(back.code, remember, await clientInfo(), back.verifier);
      props.onSignedIn();
    } catch (err) {
      setError(err instanceof ApiError ? ssoMessage(err.code, err.message || undefined) : t('loginFailed', { message: (err as Error).message }));
      setBusy(false);
    }
  };

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
      {sso !== undefined && (
        <div class="login-sso">
          <p class="login-or" aria-hidden="true">
            {t('orSeparator')}
          </p>
          <button type="button" class="sso-button" onClick={() => void startSso()} disabled={busy}>
            {t('signInWith', { name: sso })}
          </button>
        </div>
      )}
      <LanguagePicker lang={props.lang} onLanguage={props.onLanguage} />
    </main>
  );
}
