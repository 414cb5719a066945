/**
 * The renderer's entry: the panel at /app/, a chat window at /app/#/chat/<id> (Electron opens one
 * per chat; the browser's pop-out does too), the admin console at /app/#/admin, a meeting guest's
 * page at /app/#/join/<number>.
 */
import 'uplot/dist/uPlot.min.css';
// Emoji look the same everywhere (no boxes on machines without a colour emoji font): the font goes in the font stack.
// The emoji font shipped with the panel: Twemoji as a COLR font (one 470 KB file), which Chromium,
// Electron and the other browsers paint in colour (an SVG-in-OpenType emoji font paints nothing in Chromium).
import 'twemoji-colr-font/twemoji.css';
import './styles.css';
import { render } from 'preact';
import { PorticoClient } from './api/index.js';
import { AdminApp, isAdminRoute } from './admin/AdminApp.js';
import { App } from './components/App.js';
import { GuestApp, joinRoute } from './meetings/GuestApp.js';
import { ChatWindow } from './components/ChatWindow.js';
import { setLanguage, language } from './i18n.js';
import { configuredLanguage } from './platform.js';
import { startWebApp } from './web-app.js';

function chatRoute(): string | undefined {
  const match = /^#\/chat\/([0-9a-f-]{36})$/i.exec(location.hash);
  return match?.[1];
}

async function boot() {
  startWebApp();
  setLanguage(language(), false);
  const configured = await configuredLanguage();
  if (configured) setLanguage(configured, false);
  const root = document.getElementById('root')!;
  const makeClient = () => new PorticoClient({ baseUrl: '', storage: localStorage });
  const chatId = chatRoute();
  const join = joinRoute(location.hash);
  if (join) {
    // A meeting guest (issue 19): its own client, its token in sessionStorage only.
    document.body.classList.add('guest-body');
    render(<GuestApp client={new PorticoClient({ baseUrl: '', storage: sessionStorage, storagePrefix: 'portico.guest' })} number={join.number} />, root);
  } else if (chatId) {
    document.body.classList.add('chat-window');
    render(<ChatWindow chatId={chatId} makeClient={makeClient} />, root);
  } else if (isAdminRoute(location.hash)) {
    document.body.classList.add('admin-page-body');
    render(<AdminApp client={makeClient()} />, root);
  } else {
    render(<App client={makeClient()} />, root);
  }
  // A new route is a new page (the admin console keeps its tab with replaceState, which fires nothing).
  addEventListener('hashchange', () => location.reload());
}

void boot();
