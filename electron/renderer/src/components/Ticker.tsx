/**
 * The ticker: one line scrolling continuously (a CSS animation over two copies of the items, so
 * it loops without a seam), paused while the pointer or the keyboard focus is on it, or with its
 * pause button. Expired items drop out; a click on an item with a link opens it externally.
 *
 * One loop lasts at most about a minute: the items are measured (in a hidden copy) and only as
 * many as fit in a minute at the chosen speed go round, the most important and newest first; the
 * others stay in the list and come back as newer ones expire. A new item of raised priority
 * interrupts the loop: it starts again with that item at the front.
 */
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { TickerItem } from '../api/index.js';
import { t } from '../i18n.js';
import { openExternal } from '../platform.js';
import { Icon } from './Icon.js';

const SHOWN = 60;
/** The longest loop, seconds. */
export const MAX_LOOP_SECONDS = 60;
/** Scroll speeds, pixels per second. */
export const SPEEDS = { slow: 30, normal: 45, fast: 70 } as const;
export type TickerSpeed = keyof typeof SPEEDS;
/** Items above the default priority (0) interrupt the loop when they arrive. */
const INTERRUPTS = 0;
/** Width assumed for an item not measured yet, px. */
const GUESS = 240;

/** Live items, in the order they go round: priority, then the channel order chosen, then newest. */
export function liveItems(items: TickerItem[], now: number, channels: string[] = []): TickerItem[] {
  const rank = (c: string) => {
    const i = channels.indexOf(c);
    return i < 0 ? channels.length : i;
  };
  return items
    .filter((i) => !i.expiresAt || Date.parse(i.expiresAt) > now)
    .sort((a, b) => b.priority - a.priority || rank(a.channel) - rank(b.channel) || b.createdAt.localeCompare(a.createdAt) || b.id - a.id)
    .slice(0, SHOWN);
}

export function Ticker({ items, channels, speed = 'normal', loaded = true }: { items: TickerItem[]; channels: string[]; speed?: TickerSpeed; loaded?: boolean }) {
  const [now, setNow] = useState(Date.now());
  const [paused, setPaused] = useState(false);
  const [duration, setDuration] = useState(20);
  const [widths, setWidths] = useState<Record<number, number>>({});
  /** The item that interrupted the loop (first until the next interruption), and a counter restarting the animation. */
  const [lead, setLead] = useState<{ id: number; restart: number } | undefined>();
  const seen = useRef<Set<number> | undefined>(undefined);
  const group = useRef<HTMLUListElement>(null);
  const measure = useRef<HTMLUListElement>(null);
  const pxPerSecond = SPEEDS[speed] ?? SPEEDS.normal;
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 5000);
    return () => clearInterval(timer);
  }, []);

  // New items of raised priority interrupt the loop (those present at the start do not).
  useEffect(() => {
    if (!seen.current) {
      seen.current = new Set(items.map((i) => i.id));
      return;
    }
    const fresh = items.filter((i) => !seen.current!.has(i.id));
    for (const i of fresh) seen.current.add(i.id);
    const urgent = fresh.filter((i) => i.priority > INTERRUPTS).sort((a, b) => b.priority - a.priority || b.id - a.id)[0];
    if (urgent) setLead((old) => ({ id: urgent.id, restart: (old?.restart ?? 0) + 1 }));
  }, [items]);

  const live = liveItems(items, now, channels);
  const leadItem = lead && live.find((i) => i.id === lead.id);
  const ordered = leadItem ? [leadItem, ...live.filter((i) => i !== leadItem)] : live;
  const signature = ordered.map((i) => i.id).join(',');
  useLayoutEffect(() => {
    const next: Record<number, number> = {};
    for (const li of Array.from(measure.current?.children ?? [])) next[Number((li as HTMLElement).dataset.id)] = (li as HTMLElement).offsetWidth;
    setWidths(next);
  }, [signature]);
  // As many as go round in a minute.
  const budget = MAX_LOOP_SECONDS * pxPerSecond;
  const rotation: TickerItem[] = [];
  let used = 0;
  for (const item of ordered) {
    const w = widths[item.id] ?? GUESS;
    if (rotation.length > 0 && used + w > budget) continue;
    rotation.push(item);
    used += w;
  }
  const rotationSignature = rotation.map((i) => i.id).join(',');
  useLayoutEffect(() => {
    const width = group.current?.offsetWidth ?? 0;
    setDuration(Math.min(MAX_LOOP_SECONDS + 5, Math.max(8, Math.round(width / pxPerSecond))));
  }, [rotationSignature, pxPerSecond]);

  const render = (copy: boolean) =>
    rotation.map((item) => (
      <li key={`${copy ? 'b' : 'a'}${item.id}`} class={`ticker-item${item.priority > INTERRUPTS ? ' ticker-urgent' : ''}`} data-channel={item.channel} data-id={item.id}>
        {item.url ? (
          <a
            href={item.url}
            tabIndex={copy ? -1 : undefined}
            onClick={(e) => {
              e.preventDefault();
              openExternal(item.url!);
            }}
          >
            {item.text}
          </a>
        ) : (
          <span>{item.text}</span>
        )}
      </li>
    ));

  return (
    <section class="area ticker" aria-labelledby="ticker-title">
      <h2 id="ticker-title" class="visually-hidden">
        {t('ticker')}
      </h2>
      <div class="ticker-row">
        <div class="ticker-viewport">
          {rotation.length === 0 ? (
            <p class="ticker-empty">{loaded ? t('tickerEmpty') : t('loading')}</p>
          ) : (
            <div key={`run-${lead?.restart ?? 0}`} class={`ticker-track${paused ? ' paused' : ''}`} style={{ animationDuration: `${duration}s` }} data-loop-seconds={duration}>
              <ul class="ticker-group" ref={group}>
                {render(false)}
              </ul>
              <ul class="ticker-group" aria-hidden="true">
                {render(true)}
              </ul>
            </div>
          )}
          <ul class="ticker-group ticker-measure" ref={measure} aria-hidden="true">
            {ordered.map((item) => (
              <li key={item.id} class="ticker-item" data-id={item.id}>
                <span>{item.text}</span>
              </li>
            ))}
          </ul>
        </div>
        <button type="button" class="icon ticker-pause" aria-pressed={paused} aria-label={paused ? t('play') : t('pause')} title={paused ? t('play') : t('pause')} onClick={() => setPaused(!paused)}>
          <Icon name={paused ? 'play' : 'pause'} size={14} />
        </button>
      </div>
    </section>
  );
}
