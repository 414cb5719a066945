/**
 * What the panel asks of its host: Electron's preload bridge (`window.portico`) when there is one,
 * else the plain browser. Every bridge method is feature-detected, so an older or newer shell (or
 * none) never breaks the page.
 */
import type { ClientInfo, DisplaySource, NotificationActionEvent, PanelConfig, PorticoBridge, PresenceSuggestion, PresenceState, SsoLoopbackResult } from '../../preload/bridge.js';

type Bridge = Partial<PorticoBridge>;

export function bridge(): Bridge | undefined {
  const value = (globalThis as { portico?: unknown }).portico;
  return value && typeof value === 'object' ? (value as Bridge) : undefined;
}

export const inElectron = () => bridge() !== undefined;

const EXTERNAL = /^(https?:|mailto:)/i;

/** Opens a link outside the panel: the system browser in Electron, a new tab in a browser. Never navigates the panel. */
export function openExternal(url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url, location.href);
  } catch {
    return false;
  }
  if (!EXTERNAL.test(parsed.protocol)) return false;
  const b = bridge();
  if (typeof b?.openExternal === 'function') {
    b.openExternal(parsed.href).catch((error: unknown) => console.warn('portico: openExternal refused', error));
    return true;
  }
  window.open(parsed.href, '_blank', 'noopener,noreferrer');
  return true;
}

/**
 * A click handler for an element holding links (the sanitized links area, an HTML notice): a
 * click on an <a> opens it externally and never navigates the page.
 */
export function interceptLinks(event: MouseEvent) {
  const target = event.target as Element | null;
  const anchor = target?.closest?.('a');
  if (!anchor) return;
  event.preventDefault();
  if (event.type === 'auxclick' && event.button !== 1) return;
  const href = anchor.getAttribute('href');
  if (href) openExternal(href);
}

export interface NotifyOptions {
  title: string;
  body?: string;
  tag: string;
  actions?: Array<'accept' | 'decline'>;
  /** Browser only: the sender's picture (a URL the page loads). */
  icon?: string;
  /** Browser only: what a click on the notification does. */
  onClick?: () => void;
}

export function notify(options: NotifyOptions) {
  const b = bridge();
  if (typeof b?.notify === 'function') {
    b.notify({ title: options.title, body: options.body, tag: options.tag, actions: options.actions }).catch(() => {});
    return;
  }
  if (typeof Notification === 'undefined' || Notification.permission !== 'granted') return;
  try {
    const n = new Notification(options.title, { body: options.body, tag: options.tag, ...(options.icon ? { icon: options.icon } : {}) });
    n.onclick = () => {
      window.focus();
      options.onClick?.();
      n.close();
    };
  } catch {
    /* some browsers only allow notifications from a service worker */
  }
}

/** Asks for notification permission in a browser; call it from a user gesture (the sign-in click). */
export function askNotificationPermission() {
  if (inElectron() || typeof Notification === 'undefined' || Notification.permission !== 'default') return;
  Notification.requestPermission().catch(() => {});
}

let lastBadge = -1;
export function setBadge(count: number) {
  // The window title says it too ("(3) Portico — Alice"), as mail and chat apps do.
  const title = document.title.replace(/^\(\d+\) /, '');
  document.title = count > 0 ? `(${count}) ${title}` : title;
  if (count === lastBadge) return;
  lastBadge = count;
  const b = bridge();
  if (typeof b?.setBadge === 'function') {
    b.setBadge(count).catch(() => {});
    return;
  }
  if (b) return;
  // A browser: the installed web app's icon (Badging API); cleared at 0.
  const nav = (typeof navigator === 'undefined' ? {} : navigator) as { setAppBadge?: (n?: number) => Promise<void>; clearAppBadge?: () => Promise<void> };
  const done = count > 0 ? nav.setAppBadge?.(count) : nav.clearAppBadge?.();
  done?.catch(() => {
    /* not installed, or no badge support */
  });
}

export function presenceChanged(state: PresenceState, byUser: boolean) {
  const b = bridge();
  if (typeof b?.presenceChanged === 'function') b.presenceChanged(state, byUser).catch(() => {});
}

/** My do-not-disturb for the shell's tray (null: off); told again only when it changes. */
let lastDnd: string | null | undefined;
export function dndChanged(until: string | null) {
  if (until === lastDnd) return;
  lastDnd = until;
  const b = bridge();
  if (typeof b?.dndChanged === 'function') b.dndChanged(until).catch(() => {});
}

/** Opens a chat's own window where the shell has them; false in a browser (the panel shows the chat itself). */
export function openChatWindow(chatId: string): boolean {
  const b = bridge();
  if (typeof b?.openChat !== 'function') return false;
  b.openChat(chatId).catch((error: unknown) => console.warn('portico: openChat refused', error));
  return true;
}

const noop = () => {};

export function onPresenceSuggestion(callback: (s: PresenceSuggestion) => void): () => void {
  const b = bridge();
  return typeof b?.onPresenceSuggestion === 'function' ? b.onPresenceSuggestion(callback) : noop;
}

export function onNotificationAction(callback: (e: NotificationActionEvent) => void): () => void {
  const b = bridge();
  return typeof b?.onNotificationAction === 'function' ? b.onNotificationAction(callback) : noop;
}

/** The desktop shell's screen source picker: `handler` picks among the sources main offers (null: none). In a browser, nothing. */
export function onDisplaySourceRequest(handler: (sources: DisplaySource[]) => Promise<string | null>): () => void {
  const b = bridge();
  return typeof b?.onDisplaySourceRequest === 'function' ? b.onDisplaySourceRequest(handler) : noop;
}

export function onPollNow(callback: () => void): () => void {
  const b = bridge();
  return typeof b?.onPollNow === 'function' ? b.onPollNow(callback) : noop;
}

/** This installation's install id, version and platform for the login; undefined in a browser or when the shell has none. */
export async function clientInfo(): Promise<ClientInfo | undefined> {
  const b = bridge();
  if (typeof b?.clientInfo !== 'function') return undefined;
  try {
    return (await b.clientInfo()) ?? undefined;
  } catch {
    return undefined;
  }
}

/**
 * Single sign-on in the system browser (Electron: RFC 8252 loopback, see electron/main/sso-loopback.ts);
 * undefined where the shell cannot (a browser, an older shell): the page then goes to the provider itself.
 */
export function systemBrowserSso(): (() => Promise<SsoLoopbackResult>) | undefined {
  const b = bridge();
  return typeof b?.ssoSignIn === 'function' ? () => b.ssoSignIn!() : undefined;
}

/** The language the administrator or the user set in the shell's configuration, if any. */
export async function configuredLanguage(): Promise<PanelConfig['language']> {
  const b = bridge();
  if (typeof b?.getConfig !== 'function') return undefined;
  try {
    return (await b.getConfig()).config.language;
  } catch {
    return undefined;
  }
}

export function saveLanguageSetting(lang: 'en' | 'ja') {
  const b = bridge();
  if (typeof b?.setSetting === 'function') b.setSetting('language', lang).catch(() => {});
}
