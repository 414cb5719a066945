/**
 * The resident panel: own status and connection on top, then contacts, conversations, ticker,
 * media, messages, links. A docked column in narrow windows, where a chat covers it; from 1,000 px
 * on, the open chat sits beside it. Toasts float over the content; Ctrl+K jumps to a person or chat.
 */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { localBackend } from '../window-bridge.js';
import { t, type Language } from '../i18n.js';
import { usePanel, type PanelModel } from '../model.js';
import { Avatar, setAvatarResolver, StatusText, useRerenderAt } from './Avatar.js';
import { nextExpiry } from '../people-view.js';
import { DndBanner, DndMenu } from './Dnd.js';
import { MeDialog } from './MeDialog.js';
import { CallStage, IncomingCalls, usePhone } from './Call.js';
import { callPeople } from './CallState.js';
import { ChatView } from './ChatView.js';
import { ConnectionIndicator } from './ConnectionIndicator.js';
import { Contacts, Conversations } from './Contacts.js';
import { Icon } from './Icon.js';
import { Jump } from './Jump.js';
import { Links } from './Links.js';
import { Media } from './Media.js';
import { Knocks, MeetingPane, MeetingPanel, useHostMeetings } from '../meetings/MeetingPanel.js';
import { Notices } from './Notices.js';
import { OfflineBanner } from './OfflineBanner.js';
import { People } from './People.js';
import { Requests } from './Requests.js';
import { ScreenPicker } from './ScreenPicker.js';
import { Settings } from './Settings.js';
import { StatusSelector } from './StatusSelector.js';
import { Ticker, type TickerSpeed } from './Ticker.js';
import { storedSpeed, TickerSettings } from './TickerSettings.js';
import { Toasts } from './Toasts.js';

const WIDE = '(min-width: 1000px)';

function useMedia(query: string): boolean {
  const [matches, setMatches] = useState(() => typeof matchMedia === 'function' && matchMedia(query).matches);
  useEffect(() => {
    const list = matchMedia(query);
    const update = () => setMatches(list.matches);
    update();
    list.addEventListener('change', update);
    return () => list.removeEventListener('change', update);
  }, [query]);
  return matches;
}

export function Panel({ model, lang, onLanguage, onSignOut }: { model: PanelModel; lang: Language; onLanguage: (l: Language) => void; onSignOut: () => void }) {
  const state = usePanel(model);
  const phone = usePhone(model.phone);
  const meetings = useHostMeetings(model);
  const backend = useMemo(() => localBackend(model.client, model), [model]);
  const wide = useMedia(WIDE);
  const [dialog, setDialog] = useState<'people' | 'ticker' | 'jump' | 'me' | undefined>();
  const [speed, setSpeed] = useState<TickerSpeed>(storedSpeed);
  const me = model.client.user;
  const myName = state.me?.displayName ?? me?.displayName ?? me?.username ?? '';
  // Statuses, do-not-disturb and mutes run out on their own: render again then.
  useRerenderAt(
    nextExpiry(
      [state.me?.status, state.me?.dndUntil ? { text: '', until: state.me.dndUntil } : undefined, ...state.contacts.map((c) => c.status), ...Object.values(state.chats).map((c) => (c.mutedUntil ? { text: '', until: c.mutedUntil } : undefined))],
    ),
  );
  useEffect(() => setAvatarResolver((p) => model.client.resolveUrl(p)), [model]);
  const openChat = state.openChat ? state.chats[state.openChat] : undefined;
  const covered = openChat !== undefined && !wide;
  // Something true to show: the server's state, or the last known one from the cache.
  const shown = state.loaded || state.cached;
  // Back from a chat: the keyboard returns to that conversation in the list.
  const lastOpen = useRef<string | undefined>(undefined);
  useEffect(() => {
    const closed = lastOpen.current;
    lastOpen.current = state.openChat;
    if (closed && !state.openChat) document.querySelector<HTMLElement>(`.conv[data-chat="${closed}"]`)?.focus();
  }, [state.openChat]);
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if ((e.ctrlKey || e.metaKey) && !e.altKey && !e.shiftKey && e.key.toLowerCase() === 'k') {
        e.preventDefault();
        setDialog('jump');
      }
    };
    addEventListener('keydown', onKey);
    return () => removeEventListener('keydown', onKey);
  }, []);

  const callStage = phone.current && (
    <CallStage
      phone={model.phone}
      view={phone.current}
      people={callPeople(state.contacts, state.chats[phone.current.call.chatId])}
      history={state.chats[phone.current.call.chatId]?.history}
      onAddPeople={(id, u, h) => model.addPeople(id, u, h)}
    />
  );
  // Wide, a call takes the main pane (large enough for a shared screen), above the chat if one
  // is open; docked, or while the pane shows the host's meeting (its presentation), it takes the
  // media area of the column.
  const meetingInPane = wide && !openChat && meetings.state.meetings.length > 0;
  const callBeside = wide && !meetingInPane && callStage;

  const chat = openChat && (
    <ChatView
      key={openChat.id}
      backend={backend}
      chatId={openChat.id}
      initialChat={openChat}
      onClose={() => model.closeChat()}
      popOutHref={`/app/#/chat/${openChat.id}`}
      banner={!wide}
      beside={wide}
      focus={state.focus?.chatId === openChat.id ? state.focus : undefined}
    />
  );

  return (
    <div class={`panel${wide ? ' wide' : ''}${openChat ? ' has-chat' : ''}`} lang={lang} aria-busy={!state.loaded}>
      <div class="panel-column">
        <OfflineBanner state={covered ? 'online' : state.connection} retryAt={() => model.client.retryAt} onRetry={() => model.client.pollNow()} />
        <header class="panel-header" inert={covered}>
          <div class="me">
            <button type="button" class="me-open" aria-label={t('editProfile')} title={t('editProfile')} disabled={!state.me} onClick={() => setDialog('me')}>
              <Avatar username={model.username} displayName={myName} avatarUrl={state.me?.avatarUrl} size={32} />
            </button>
            <div class="me-text">
              <span class="me-name">{myName}</span>
              <ConnectionIndicator state={state.connection} mode={state.mode} />
            </div>
            <button type="button" class="icon jump-open" aria-label={`${t('jumpTo')} (Ctrl+K)`} title={`${t('jumpTo')} (Ctrl+K)`} onClick={() => setDialog('jump')}>
              <Icon name="search" size={20} />
            </button>
            <Settings model={model} lang={lang} onLanguage={onLanguage} onSignOut={onSignOut} onTicker={() => setDialog('ticker')} onProfile={state.me ? () => setDialog('me') : undefined} />
          </div>
          <div class="presence-row">
            <StatusSelector value={state.presence} onChange={(s) => void model.setPresence(s)} />
            <DndMenu model={model} me={state.me} />
          </div>
          <StatusText status={state.me?.status} class="me-status" />
          <DndBanner me={state.me} />
        </header>
        <Requests model={model} requests={model.requests} />
        <IncomingCalls model={model} calls={phone.incoming} />
        <Knocks {...meetings} />
        <main class="panel-body" inert={covered}>
          <MeetingPanel model={model} {...meetings} inline={!wide || openChat !== undefined} />
          <Contacts model={model} contacts={state.contacts} loaded={shown} onAddPeople={() => setDialog('people')} />
          <Conversations model={model} chats={state.chats} unread={state.unread} />
          <Ticker items={state.ticker} channels={state.tickerChannels} speed={speed} loaded={shown} />
          <Media
            items={state.media}
            charts={state.charts}
            resolveUrl={(p) => model.client.resolveUrl(p)}
            call={callBeside ? undefined : callStage}
            loaded={shown}
          />
          <Notices notices={state.notices} loaded={shown} />
          <Links html={state.links} loaded={shown} />
        </main>
      </div>
      {chat || callBeside ? (
        // One container whatever the call does, so starting or ending a call keeps the open chat
        // (its draft, its scroll) mounted where it is.
        <div class={`${wide ? 'chat-pane' : 'chat-overlay'}${callBeside ? ' with-call' : ''}${callBeside && chat ? ' has-chat' : ''}`}>
          {callBeside ? <div class="call-pane">{callBeside}</div> : null}
          {chat ? <div class="pane-chat">{chat}</div> : null}
        </div>
      ) : wide && meetings.state.meetings.length > 0 ? (
        <div class="chat-pane">
          <MeetingPane model={model} {...meetings} />
        </div>
      ) : (
        wide && (
          <div class="chat-pane chat-empty">
            <div class="chat-empty-box">
              <Icon name="chat" size={40} />
              <p>{t('pickChat')}</p>
              <p class="hint">{t('jumpHint')}</p>
            </div>
          </div>
        )
      )}
      <div class={`toasts-wrap${covered ? ' over-chat' : ''}`}>
        <Toasts toasts={state.toasts} onDismiss={(id) => model.dismiss(id)} />
      </div>
      <ScreenPicker />
      {dialog === 'people' && <People model={model} contacts={state.contacts} onClose={() => setDialog(undefined)} />}
      {dialog === 'ticker' && <TickerSettings model={model} speed={speed} onSpeed={setSpeed} onClose={() => setDialog(undefined)} />}
      {dialog === 'me' && state.me && <MeDialog model={model} me={state.me} onClose={() => setDialog(undefined)} />}
      {dialog === 'jump' && <Jump model={model} contacts={state.contacts} chats={state.chats} onClose={() => setDialog(undefined)} />}
      {!state.loaded && (
        <p class="visually-hidden" role="status">
          {state.cached ? t('refreshing') : t('loading')}
        </p>
      )}
    </div>
  );
}
