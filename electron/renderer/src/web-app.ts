/**
 * The panel as an installable web app (where the desktop app cannot be installed): the service
 * worker that keeps the shell for offline starts and the docked size of a fresh app window (the
 * unread count on the app's icon is platform.ts's setBadge). None of it runs inside the desktop shell, which has its own.
 */
import { inElectron } from './platform.js';

const DOCKED = { width: 380, height: 900 };
const SIZED_KEY = 'portico.webapp.sized';

export function startWebApp() {
  if (inElectron() || typeof navigator === 'undefined') return;
  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.register('/app/sw.js', { scope: '/app/' }).catch(() => {
      /* no worker (e.g. plain http on a name that is not localhost): the panel works, only not offline */
    });
  }
  // An app window (installed, or `chromium --app=`) opens docked-column sized the first time; the
  // user's own size is kept afterwards (the browser remembers it).
  const standalone = matchMedia('(display-mode: standalone)').matches || matchMedia('(display-mode: minimal-ui)').matches;
  if (standalone && !localStorage.getItem(SIZED_KEY)) {
    try {
      window.resizeTo(DOCKED.width, DOCKED.height);
      localStorage.setItem(SIZED_KEY, '1');
    } catch {
      /* not allowed here: keep the size the browser chose */
    }
  }
}
