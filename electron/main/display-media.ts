/**
 * Screen sharing in the desktop shell: the decisions behind the session's permission handlers
 * and its display-media request handler (main.ts only wires them to Electron).
 *
 * - Permissions: camera and microphone as urls.ts decides, plus 'display-capture' (what
 *   getDisplayMedia asks for), both for pages of the renderer app on the configured server only.
 * - The source: Electron has no picker of its own on Linux and Windows. When the requesting page
 *   shows one (it registered through the preload bridge: INVOKE.displayPicker), main offers it the
 *   screens and windows with thumbnails (PUSH.displaySourceRequest, `offerOf`) and shares what it
 *   picks, an id it was offered and nothing else (`DisplayPicker.answer`); a cancel, a page that
 *   goes away or no answer in time shares nothing. A page without a picker (an older renderer)
 *   gets the first screen, else the first window, as before (`pickSource`).
 *   No audio: system sound capture ('loopback') is not offered.
 */
import { randomUUID } from 'node:crypto';
import type { DisplaySource, DisplaySourceRequest } from '../preload/bridge.js';
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

/** What desktopCapturer answers with thumbnails (a NativeImage's part the offer needs). */
export interface ThumbnailSourceLike extends SourceLike {
  thumbnail?: { isEmpty(): boolean; toDataURL(): string } | undefined;
}

/** Most sources offered (a desktop with very many windows: the first ones). */
export const MAX_OFFERED = 40;
const NAME_CHARS = 200;

/** The sources as the page gets them: screens and windows only, names as text, thumbnails as data:image/png URLs made here. */
export function offerOf(sources: readonly ThumbnailSourceLike[]): DisplaySource[] {
  const offered: DisplaySource[] = [];
  for (const s of sources) {
    const kind = s.id.startsWith('screen:') ? 'screen' : s.id.startsWith('window:') ? 'window' : undefined;
    if (!kind) continue;
    const url = s.thumbnail && !s.thumbnail.isEmpty() ? s.thumbnail.toDataURL() : '';
    offered.push({ id: s.id, name: String(s.name ?? '').slice(0, NAME_CHARS), kind, thumbnail: url.startsWith('data:image/png;base64,') ? url : '' });
  }
  // Screens first, as the first-screen default did.
  return [...offered.filter((o) => o.kind === 'screen'), ...offered.filter((o) => o.kind === 'window')].slice(0, MAX_OFFERED);
}

interface Pending {
  senderId: number;
  offered: Set<string>;
  resolve: (id: string | undefined) => void;
  timer: ReturnType<typeof setTimeout>;
}

/**
 * The pages that show a picker, and the questions asked of them. `answer` takes an id only from
 * the page that was asked, for a question still open, and only one it was offered.
 */
export class DisplayPicker {
  private readonly pickers = new Set<number>();
  private readonly pending = new Map<string, Pending>();

  constructor(
    /** How long a page may take to pick before nothing is shared. */
    private readonly timeoutMs = 120_000,
    private readonly newId: () => string = randomUUID,
  ) {}

  setPicker(senderId: number, on: boolean) {
    if (on) this.pickers.add(senderId);
    else this.pickers.delete(senderId);
  }

  hasPicker(senderId: number | undefined): boolean {
    return senderId !== undefined && this.pickers.has(senderId);
  }

  /** Asks the page (through `send`) to pick one of `offer`: the id picked, or undefined (cancelled, gone, no answer in time). */
  ask(senderId: number, offer: readonly DisplaySource[], send: (request: DisplaySourceRequest) => void): Promise<string | undefined> {
    const requestId = this.newId();
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.settle(requestId, undefined), this.timeoutMs);
      this.pending.set(requestId, { senderId, offered: new Set(offer.map((s) => s.id)), resolve, timer });
      try {
        send({ requestId, sources: [...offer] });
      } catch {
        this.settle(requestId, undefined);
      }
    });
  }

  /** The page's answer; false (and nothing happens) for one not asked of this page, or an id it was not offered. */
  answer(senderId: number, requestId: string, sourceId: string | null): boolean {
    const p = this.pending.get(requestId);
    if (!p || p.senderId !== senderId) return false;
    if (sourceId !== null && !p.offered.has(sourceId)) return false;
    this.settle(requestId, sourceId ?? undefined);
    return true;
  }

  /** The page went away: its open questions share nothing, and it shows no picker any more. */
  drop(senderId: number) {
    this.pickers.delete(senderId);
    for (const [id, p] of this.pending) if (p.senderId === senderId) this.settle(id, undefined);
  }

  private settle(requestId: string, sourceId: string | undefined) {
    const p = this.pending.get(requestId);
    if (!p) return;
    this.pending.delete(requestId);
    clearTimeout(p.timer);
    p.resolve(sourceId);
  }
}

/**
 * The display-media request handler's whole decision: refusals as decideDisplayMedia; then, when
 * the requesting page shows a picker (`ask` given), the source it picks (none: cancelled), else
 * the first screen.
 */
export async function chooseDisplaySource<S extends ThumbnailSourceLike>(
  request: DisplayRequestLike,
  serverUrl: string | undefined,
  sources: readonly S[],
  ask?: (offer: DisplaySource[]) => Promise<string | undefined>,
): Promise<DisplayDecision<S>> {
  const first = decideDisplayMedia(request, serverUrl, sources);
  if (!first.allow || !ask) return first;
  const picked = await ask(offerOf(sources));
  const source = picked === undefined ? undefined : sources.find((s) => s.id === picked);
  return source ? { allow: true, source } : { allow: false, reason: 'cancelled' };
}
