/**
 * The panel's last known state, per user, in localStorage: shown at once after a reload or a
 * restart while the server's answers are on their way. Keyed by the (lower-cased) username and
 * checked again on reading, so one user's panel never shows another's; dropped on sign-out.
 */
import type { Chat, ChartSeries, Contact, MediaItem, Me, Notice, TickerItem } from './api/index.js';

export interface CachedPanel {
  v: 1;
  user: string;
  me: Me;
  contacts: Contact[];
  chats: Record<string, Chat>;
  ticker: TickerItem[];
  media: MediaItem[];
  notices: Notice[];
  charts: ChartSeries[];
  links: string;
}

const PREFIX = 'portico.panel-cache.';
/** Chart points kept per series in the cache (the full series comes with the refresh). */
const CACHED_POINTS = 200;

const keyOf = (user: string) => PREFIX + user.toLowerCase();

function storage(): Storage | undefined {
  try {
    return typeof localStorage === 'undefined' ? undefined : localStorage;
  } catch {
    return undefined;
  }
}

export function readPanelCache(user: string): CachedPanel | undefined {
  if (!user) return undefined;
  try {
    const raw = storage()?.getItem(keyOf(user));
    if (!raw) return undefined;
    const cached = JSON.parse(raw) as CachedPanel;
    if (cached?.v !== 1 || typeof cached.user !== 'string' || cached.user.toLowerCase() !== user.toLowerCase()) return undefined;
    if (!Array.isArray(cached.contacts) || typeof cached.chats !== 'object' || !cached.me) return undefined;
    return cached;
  } catch {
    return undefined;
  }
}

export function writePanelCache(data: Omit<CachedPanel, 'v'>): void {
  if (!data.user) return;
  const charts = data.charts.map((s) => ({ ...s, points: s.points.slice(-CACHED_POINTS) }));
  try {
    storage()?.setItem(keyOf(data.user), JSON.stringify({ v: 1, ...data, charts }));
  } catch {
    /* full or unavailable: the panel just starts without it next time */
  }
}

export function dropPanelCache(user: string): void {
  try {
    storage()?.removeItem(keyOf(user));
  } catch {
    /* nothing to drop */
  }
}
