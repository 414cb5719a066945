/** The panel page: sign-in until there is a session, then the panel. */
import { useEffect, useMemo, useState } from 'preact/hooks';
import { ApiError, type PorticoClient } from '../api/index.js';
import { serveChatWindows } from '../window-bridge.js';
import { language, setLanguage, t, type Language } from '../i18n.js';
import { PanelModel } from '../model.js';
import { saveLanguageSetting } from '../platform.js';
import { Login, ssoMessage, ssoSignIn, takeSsoReturn } from './Login.js';
import { Panel } from './Panel.js';

export function App({ client }: { client: PorticoClient }) {
  const [phase, setPhase] = useState<'restoring' | 'login' | 'panel'>('restoring');
  const [notice, setNotice] = useState<string | undefined>();
  const [lang, setLang] = useState<Language>(language());
  // A fresh model for every session, so nothing of a previous user shows.
  const [session, setSession] = useState(0);
  const model = useMemo(() => new PanelModel(client), [client, session]);

  useEffect(() => {
    let alive = true;
    const sso = takeSsoReturn();
    const start = sso?.code
      ? ssoSignIn(client, sso.code).catch((err: unknown) => {
          setNotice(ssoMessage(err instanceof ApiError ? err.code : 'sso_failed', (err as Error).message));
          return undefined;
        })
      : client.restore();
    if (sso?.error) setNotice(ssoMessage(sso.error));
    start.then(
      (user) => alive && setPhase(user ? 'panel' : 'login'),
      () => alive && setPhase('login'),
    );
    const off = client.on('auth', () => {
      setNotice(t('sessionEnded'));
      setPhase('login');
    });
    return () => {
      alive = false;
      off();
    };
  }, [client]);

  useEffect(() => {
    if (phase !== 'panel') return;
    document.title = `${t('appName')} — ${client.user?.displayName ?? ''}`;
    model.attach();
    const stopBridge = serveChatWindows(client, model);
    return () => {
      stopBridge();
      model.detach();
    };
  }, [phase, model, client]);

  const changeLanguage = (next: Language) => {
    setLanguage(next);
    saveLanguageSetting(next);
    setLang(next);
  };

  if (phase === 'restoring') {
    return (
      <div class="splash" role="status">
        {t('loading')}
      </div>
    );
  }
  if (phase === 'login') {
    return (
      <Login
        client={client}
        notice={notice}
        onSignedIn={() => {
          setNotice(undefined);
          setSession((n) => n + 1);
          setPhase('panel');
        }}
        lang={lang}
        onLanguage={changeLanguage}
      />
    );
  }
  return (
    <Panel
      model={model}
      lang={lang}
      onLanguage={changeLanguage}
      onSignOut={async () => {
        model.forgetCache();
        await client.logout();
        location.reload();
      }}
    />
  );
}
