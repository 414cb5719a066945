/**
 * Screen sharing in the desktop shell: the decisions behind the session's permission handlers
 * and its display-media request handler (main.ts only wires them to Electron).
 *
 * - Permissions: camera and microphone as urls.ts decides, plus 'display-capture' (what
 *   getDisplayMedia asks for), both for pages of the renderer app on the configured server only.
 * - The source: Electron has no picker of its own on Linux and Windows; a call shares the first
 *   screen (the whole desktop), else the first window. Why no picker yet: the panel is a narrow
 *   resident window that the share would cover, and a user who starts sharing from it sees at
 *   once what is shared (the partner's view, and the red "You are sharing" badge) and can stop
 *   it with one click. A picker (thumbnails through preload) can be added on top of pickSource.
 *   No audio: system sound capture ('loopback') is not offered.
 */
import { isAppUrl, isPermissionAllowed, serverOrigin } from './urls.js';

/** The permission request handler's decision. */
export function isCapturePermissionAllowed(permission: string, requestingUrl: string | undefined, serverUrl: string | undefined, mediaTypes: readonly string[] = []): boolean {
  if (permission === 'display-capture') return isAppUrl(requestingUrl, serverUrl);
  return isPermissionAllowed(permission, requestingUrl, serverUrl, mediaTypes);
}

/** The permission check handler's decision (Chromium asks by origin only). */
export function isCapturePermissionChecked(permission: string, origin: string | undefined, serverUrl: string | undefined): boolean {
  return (permission === 'media' || permission === 'display-capture') && !!origin && origin === serverOrigin(serverUrl);
}

/** What Electron's desktopCapturer answers, as far as the choice needs it. */
export interface SourceLike {
  id: string;
  name: string;
}

/** A screen's id starts with "screen:", a window's with "window:". */
export function pickSource<S extends SourceLike>(sources: readonly S[]): S | undefined {
  return sources.find((s) => s.id.startsWith('screen:')) ?? sources.find((s) => s.id.startsWith('window:'));
}

export interface DisplayRequestLike {
  /** The requesting frame's URL (Electron: request.frame?.url), or its origin (request.securityOrigin). */
  frameUrl?: string | undefined;
  securityOrigin?: string | undefined;
  videoRequested: boolean;
}

export type DisplayDecision<S> = { allow: true; source: S } | { allow: false; reason: string };

/** The display-media request handler's decision: the app's pages get the first screen; others nothing. */
export function decideDisplayMedia<S extends SourceLike>(request: DisplayRequestLike, serverUrl: string | undefined, sources: readonly S[]): DisplayDecision<S> {
  const fromApp = request.frameUrl ? isAppUrl(request.frameUrl, serverUrl) : !!request.securityOrigin && request.securityOrigin === serverOrigin(serverUrl);
  if (!fromApp) return { allow: false, reason: 'not a page of the Portico app' };
  if (!request.videoRequested) return { allow: false, reason: 'only video (a screen or window) is shared' };
  const source = pickSource(sources);
  if (!source) return { allow: false, reason: 'no screen or window to share' };
  return { allow: true, source };
}
