/**
 * The URL allow-lists of the main process: what may be handed to the system (shell.openExternal)
 * and where the panel's windows may navigate. Parsed with WHATWG URL, never by pattern matching.
 */

export const MAX_EXTERNAL_URL_LENGTH = 2048;
const EXTERNAL_PROTOCOLS = new Set(['http:', 'https:', 'mailto:']);
// C0 controls, DEL and whitespace: legitimate links are already percent-encoded.
const UNSAFE_CHARACTERS = /[\u0000-\u0020\u007f-\u009f]/;

function parse(value: unknown): URL | null {
  if (typeof value !== 'string') return null;
  try {
    return new URL(value);
  } catch {
    return null;
  }
}

/**
 * The URL to pass to shell.openExternal, or null when it must not be opened: only http:, https:
 * and mailto:, no user name or password, a host for web URLs, an address for mailto:, at most
 * MAX_EXTERNAL_URL_LENGTH characters, no control characters or spaces.
 */
export function safeExternalUrl(value: unknown): string | null {
  if (typeof value !== 'string' || value.length > MAX_EXTERNAL_URL_LENGTH || UNSAFE_CHARACTERS.test(value)) return null;
  const url = parse(value);
  if (!url || !EXTERNAL_PROTOCOLS.has(url.protocol)) return null;
  if (url.protocol === 'mailto:') {
    if (url.pathname === '' && !url.search) return null;
  } else if (url.username || url.password || !url.hostname) {
    return null;
  }
  return url.href.length <= MAX_EXTERNAL_URL_LENGTH ? url.href : null;
}

/** `<serverUrl>/app/`: where the panel (the renderer web app) lives. */
export function appUrl(serverUrl: string): string {
  const base = new URL(serverUrl);
  return `${base.origin}${base.pathname.replace(/\/+$/, '')}/app/`;
}

/**
 * True when `value` is a page of the renderer app on the configured server: same scheme, host and
 * port as serverUrl, path under /app/ (after the URL parser resolved dot segments), no credentials.
 */
export function isAppUrl(value: unknown, serverUrl: string | undefined): boolean {
  if (!serverUrl) return false;
  const url = parse(value);
  if (!url || url.username || url.password) return false;
  const app = new URL(appUrl(serverUrl));
  if (url.origin !== app.origin || url.origin === 'null') return false;
  return url.pathname === app.pathname.slice(0, -1) || url.pathname.startsWith(app.pathname);
}

/** Navigation of a panel or chat window is allowed only within the renderer app. */
export const isAllowedNavigation = isAppUrl;

/** The server's origin (scheme://host:port), or undefined without a valid server URL. */
export function serverOrigin(serverUrl: string | undefined): string | undefined {
  const url = parse(serverUrl);
  return url && (url.protocol === 'https:' || url.protocol === 'http:') ? url.origin : undefined;
}

/**
 * The permission handler's decision: camera and microphone ('media', audio/video only, not screen
 * capture) for pages of the renderer app on the configured server; nothing else, for nobody.
 */
export function isPermissionAllowed(
  permission: string,
  requestingUrl: string | undefined,
  serverUrl: string | undefined,
  mediaTypes: readonly string[] = [],
): boolean {
  if (permission !== 'media') return false;
  if (!mediaTypes.every((type) => type === 'audio' || type === 'video')) return false;
  return isAppUrl(requestingUrl, serverUrl);
}
