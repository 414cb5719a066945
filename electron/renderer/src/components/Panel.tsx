/** The resident panel: own status and connection on top, then contacts, ticker, media, messages, links. */
import { useEffect, useMemo, useRef } from 'preact/hooks';
import { localBackend } from '../window-bridge.js';
import { t, type Language } from '../i18n.js';
import { usePanel, type PanelModel } from '../model.js';
import { CallStage, IncomingCalls, usePhone } from './Call.js';
import { ChatView } from './ChatView.js';
import { ConnectionIndicator } from './ConnectionIndicator.js';
import { Contacts, Conversations } from './Contacts.js';
import { Links } from './Links.js';
import { Media } from './Media.js';
import { Notices } from './Notices.js';
import { Requests } from './Requests.js';
import { Settings } from './Settings.js';
import { StatusSelector } from './StatusSelector.js';
import { Ticker } from './Ticker.js';
import { Toasts } from './Toasts.js';

export function Panel({ model, lang, onLanguage, onSignOut }: { model: PanelModel; lang: Language; onLanguage: (l: Language) => void; onSignOut: () => void }) {
  const state = usePanel(model);
  const phone = usePhone(model.phone);
  const backend = useMemo(() => localBackend(model.client, model), [model]);
  const me = model.client.user;
  const openChat = state.openChat ? state.chats[state.openChat] : undefined;
  const covered = openChat !== undefined;
  // Back from a chat: the keyboard returns to that conversation in the list.
  const lastOpen = useRef<string | undefined>(undefined);
  useEffect(() => {
    const closed = lastOpen.current;
    lastOpen.current = state.openChat;
    if (closed && !state.openChat) document.querySelector<HTMLElement>(`.conv[data-chat="${closed}"]`)?.focus();
  }, [state.openChat]);

  return (
    <div class="panel" lang={lang}>
      <header class="panel-header" inert={covered}>
        <div class="me">
          <img class="logo" src="/app/icon.svg" alt="" width={24} height={24} />
          <div class="me-text">
            <span class="me-name">{me?.displayName ?? me?.username}</span>
            <ConnectionIndicator state={state.connection} mode={state.mode} />
          </div>
          <Settings model={model} lang={lang} onLanguage={onLanguage} onSignOut={onSignOut} />
        </div>
        <StatusSelector value={state.presence} onChange={(s) => void model.setPresence(s)} />
      </header>
      <Requests model={model} requests={model.requests} />
      <IncomingCalls model={model} calls={phone.incoming} />
      <div class="toasts-wrap" inert={covered}>
        <Toasts toasts={state.toasts} onDismiss={(id) => model.dismiss(id)} />
      </div>
      <main class="panel-body" inert={covered}>
        <Contacts model={model} contacts={state.contacts} />
        <Conversations model={model} chats={state.chats} unread={state.unread} />
        <Ticker items={state.ticker} />
        <Media
          items={state.media}
          charts={state.charts}
          resolveUrl={(p) => model.client.resolveUrl(p)}
          call={phone.current && <CallStage phone={model.phone} view={phone.current} />}
        />
        <Notices notices={state.notices} />
        <Links html={state.links} />
      </main>
      {openChat && (
        <div class="chat-overlay">
          <ChatView
            key={openChat.id}
            backend={backend}
            chatId={openChat.id}
            initialChat={openChat}
            onClose={() => model.closeChat()}
            popOutHref={`/app/#/chat/${openChat.id}`}
          />
        </div>
      )}
      {!state.loaded && (
        <p class="visually-hidden" role="status">
          {t('loading')}
        </p>
      )}
    </div>
  );
}
