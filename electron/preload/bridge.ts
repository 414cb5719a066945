/**
 * The contract between the renderer and the main process: IPC channel names and the shape of
 * `window.portico`. Types and constants only (no electron, no zod), so the preload, the main
 * process and the renderer can all import it. The renderer, which also runs in plain browsers,
 * must treat `window.portico` as optional.
 */

export type PresenceState = 'available' | 'away' | 'busy' | 'offline';
export type NotificationAction = 'accept' | 'decline';

/** Renderer -> main, answered (ipcRenderer.invoke / ipcMain.handle). */
export const INVOKE = {
  openExternal: 'open-external',
  notify: 'notify',
  setBadge: 'set-badge',
  presenceChanged: 'presence-changed',
  dndChanged: 'dnd-changed',
  getConfig: 'get-config',
  setSetting: 'set-setting',
  openChat: 'open-chat',
  quit: 'quit',
  clientInfo: 'client-info',
  ssoSignIn: 'sso-sign-in',
  /** The page shows a screen source picker (true) or no longer does (false). */
  displayPicker: 'display-picker',
  /** The page's answer to a display-source-request: a source id it was offered, or null (cancelled). */
  displaySourceChosen: 'display-source-chosen',
} as const;
export type InvokeChannel = (typeof INVOKE)[keyof typeof INVOKE];

/** Main -> renderer (webContents.send / ipcRenderer.on). */
export const PUSH = {
  presenceSuggestion: 'presence-suggestion',
  pollNow: 'poll-now',
  notificationAction: 'notification-action',
  configChanged: 'config-changed',
  /** getDisplayMedia in the page: main offers the screens and windows (DisplaySourceRequest) for the page to pick. */
  displaySourceRequest: 'display-source-request',
} as const;
export type PushChannel = (typeof PUSH)[keyof typeof PUSH];

/** Channel of the small built-in prompt windows (proxy credentials, first server address). */
export const PROMPT_CHANNEL = 'prompt-result';

export interface NotifyRequest {
  title: string;
  body?: string;
  /** Identifies the notification: a later one with the same tag replaces it; echoed in actions. */
  tag: string;
  /** Buttons, where the platform shows them (macOS, Windows); a click on the body is always reported. */
  actions?: NotificationAction[];
}

export interface NotificationActionEvent {
  tag: string;
  /** 'click' when the notification itself was clicked. */
  action: NotificationAction | 'click';
}

export interface PresenceSuggestion {
  state: PresenceState;
  /** Why: chosen in the tray menu, idle timeout, screen lock, sleep, or activity after an automatic away. */
  reason: 'tray' | 'idle' | 'lock' | 'suspend' | 'activity';
}

/** This installation, as the panel reports it with its login (shared/schemas.ts ClientInfo). */
export interface ClientInfo {
  installId: string;
  version: string;
  platform: 'win32' | 'darwin' | 'linux' | 'web';
}

/** A screen or window the page may share (desktopCapturer's source, as main offers it). */
export interface DisplaySource {
  /** desktopCapturer's id: "screen:…" or "window:…". */
  id: string;
  /** The screen's or window's name, as text. */
  name: string;
  kind: 'screen' | 'window';
  /** A small picture of it, a data:image/png URL made by main ('' when there is none). */
  thumbnail: string;
}

/** Main asks the page to pick a source for a getDisplayMedia call; the answer comes back on INVOKE.displaySourceChosen. */
export interface DisplaySourceRequest {
  requestId: string;
  sources: DisplaySource[];
}

/** What the system browser brought back to the loopback listener. */
export type SsoLoopbackResult = { code: string; verifier: string } | { error: string };

/** Keys the renderer may change with setSetting (when the administrator has not locked them). */
export type SettableKey = 'serverUrl' | 'autoStart' | 'dockEdge' | 'alwaysOnTop' | 'idleMinutes' | 'proxy' | 'language';

export interface PanelConfig {
  serverUrl?: string;
  caFingerprint256?: string;
  autoStart: boolean;
  dockEdge: 'right' | 'left' | 'top' | 'bottom';
  alwaysOnTop: boolean;
  idleMinutes: number;
  proxy: { mode: 'system' | 'pac' | 'manual'; pacUrl?: string; rules?: string; bypass?: string };
  updates: { enabled: boolean; pinVersion?: string };
  /** The pinned update signing key (admin files only). */
  updatePublicKey?: string;
  /** Admin files only: accept an http:// server (loopback is always accepted). */
  allowInsecureServer: boolean;
  language?: 'en' | 'ja';
}

export interface ConfigView {
  config: PanelConfig;
  /** Keys fixed by the administrator: show them read-only. */
  locked: string[];
  /** Problems found in configuration files, one readable line each (file, key, what is wrong). */
  errors: string[];
}

/** `window.portico` in Electron. Every method returns a promise rejected when main refuses the call. */
export interface PorticoBridge {
  /** Opens an http:, https: or mailto: URL in the system browser / mail program. */
  openExternal(url: string): Promise<void>;
  notify(request: NotifyRequest): Promise<void>;
  /** Unread count shown on the tray icon (and dock/taskbar where available); 0 clears it. */
  setBadge(count: number): Promise<void>;
  /** Tells main the presence now in force; byUser = chosen by the user in the renderer (sticky). */
  presenceChanged(state: PresenceState, byUser: boolean): Promise<void>;
  /**
   * Tells main my do-not-disturb (ISO time, or null: off), for the tray. Which message notifies is
   * the panel's decision (shared/notify-policy.ts, busy and DND included): main shows what it is
   * asked to show.
   */
  dndChanged(until: string | null): Promise<void>;
  getConfig(): Promise<ConfigView>;
  setSetting<K extends SettableKey>(key: K, value: PanelConfig[K]): Promise<ConfigView>;
  /** Opens (or focuses) the separate window of one chat. */
  openChat(chatId: string): Promise<void>;
  quit(): Promise<void>;
  /** Install id, version and platform for the login; null when not available. */
  clientInfo(): Promise<ClientInfo | null>;
  /**
   * Single sign-on in the system browser, back through a loopback listener (RFC 8252): the
   * one-time code and the PKCE verifier to trade it with (POST /api/v1/sso/exchange), or the
   * server's error code. Rejected when the browser cannot be opened or nobody comes back in time.
   */
  ssoSignIn(): Promise<SsoLoopbackResult>;
  /** Each returns a function that removes the listener. */
  onPresenceSuggestion(callback: (suggestion: PresenceSuggestion) => void): () => void;
  onPollNow(callback: () => void): () => void;
  onNotificationAction(callback: (event: NotificationActionEvent) => void): () => void;
  onConfigChanged(callback: (view: ConfigView) => void): () => void;
  /**
   * Screen sharing (getDisplayMedia): while a handler is registered, main asks it to pick among
   * the screens and windows it offers; the handler answers the chosen source's id, or null for
   * none (cancelled: nothing is shared). Without one, main shares the first screen.
   */
  onDisplaySourceRequest(handler: (sources: DisplaySource[]) => Promise<string | null>): () => void;
}
