/**
 * Losing the connection, said clearly: a banner over the top of the panel (or a chat window) with
 * when the next try is due (the event loop's backoff) and a button to try now.
 */
import { useEffect, useState } from 'preact/hooks';
import type { ConnectionState } from '../api/index.js';
import { t } from '../i18n.js';

export function OfflineBanner({ state, retryAt, onRetry }: { state: ConnectionState; retryAt: () => number | undefined; onRetry: () => void }) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (state !== 'offline') return;
    const timer = setInterval(() => setNow(Date.now()), 500);
    return () => clearInterval(timer);
  }, [state]);
  if (state !== 'offline') return null;
  const at = retryAt();
  const seconds = at === undefined ? 0 : Math.ceil((at - now) / 1000);
  return (
    <div class="offline-banner" role="alert">
      <span class="offline-dot" aria-hidden="true" />
      <div class="offline-text">
        <strong>{t('offlineBanner')}</strong>
        <span class="offline-retry" aria-live="off">
          {seconds > 0 ? t('retryIn', { seconds }) : t('retrying')}
        </span>
      </div>
      <button type="button" class="small" onClick={onRetry}>
        {t('retryNow')}
      </button>
    </div>
  );
}
