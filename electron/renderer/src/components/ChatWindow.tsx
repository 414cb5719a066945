/**
 * A chat in a window of its own (/app/#/chat/<id>): through the panel's client when a panel runs
 * in this browser profile (see window-bridge.ts), else with a client of its own.
 */
import { useEffect, useState } from 'preact/hooks';
import type { PorticoClient } from '../api/index.js';
import { connectToPanel, localBackend, type ChatBackend } from '../window-bridge.js';
import { t } from '../i18n.js';
import { ChatView } from './ChatView.js';

export function ChatWindow({ chatId, makeClient }: { chatId: string; makeClient: () => PorticoClient }) {
  const [backend, setBackend] = useState<ChatBackend | undefined>();
  const [signedOut, setSignedOut] = useState(false);

  useEffect(() => {
    let alive = true;
    (async () => {
      const viaPanel = await connectToPanel();
      if (viaPanel) {
        if (alive) setBackend(viaPanel);
        return;
      }
      const client = makeClient();
      const user = await client.restore().catch(() => undefined);
      if (!alive) return;
      if (!user) {
        setSignedOut(true);
        return;
      }
      client.on('auth', () => setSignedOut(true));
      client.start();
      setBackend(localBackend(client));
    })();
    return () => {
      alive = false;
    };
  }, [chatId, makeClient]);

  if (signedOut) {
    return (
      <main class="chat-window-message">
        <p role="alert">{t('signInFirst')}</p>
        <p>
          <a href="/app/">{t('appName')}</a>
        </p>
      </main>
    );
  }
  if (!backend) {
    return (
      <div class="splash" role="status">
        {t('loading')}
      </div>
    );
  }
  return (
    <main class="chat-window">
      <ChatView backend={backend} chatId={chatId} onLeft={() => window.close()} banner />
    </main>
  );
}
