/**
 * The renderer's entry: the panel at /app/, a chat window at /app/#/chat/<id> (Electron opens one
 * per chat; the browser's pop-out does too).
 */
import 'uplot/dist/uPlot.min.css';
import './styles.css';
import { render } from 'preact';
import { PorticoClient } from './api/index.js';
import { App } from './components/App.js';
import { ChatWindow } from './components/ChatWindow.js';
import { setLanguage, language } from './i18n.js';
import { configuredLanguage } from './platform.js';

function chatRoute(): string | undefined {
  const match = /^#\/chat\/([0-9a-f-]{36})$/i.exec(location.hash);
  return match?.[1];
}

async function boot() {
  setLanguage(language(), false);
  const configured = await configuredLanguage();
  if (configured) setLanguage(configured, false);
  const root = document.getElementById('root')!;
  const makeClient = () => new PorticoClient({ baseUrl: '', storage: localStorage });
  const chatId = chatRoute();
  if (chatId) {
    document.body.classList.add('chat-window');
    render(<ChatWindow chatId={chatId} makeClient={makeClient} />, root);
  } else {
    render(<App client={makeClient()} />, root);
  }
  addEventListener('hashchange', () => location.reload());
}

void boot();
