/**
 * The ticker: one line scrolling continuously (a CSS animation over two copies of the items, so
 * it loops without a seam), paused while the pointer or the keyboard focus is on it, or with its
 * pause button. Expired items drop out; a click on an item with a link opens it externally.
 */
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { TickerItem } from '../api/index.js';
import { t } from '../i18n.js';
import { openExternal } from '../platform.js';
import { Icon } from './Icon.js';

const PIXELS_PER_SECOND = 45;
const SHOWN = 60;

export function liveItems(items: TickerItem[], now: number): TickerItem[] {
  return items
    .filter((i) => !i.expiresAt || Date.parse(i.expiresAt) > now)
    .sort((a, b) => b.priority - a.priority || b.createdAt.localeCompare(a.createdAt) || b.id - a.id)
    .slice(0, SHOWN);
}

export function Ticker({ items }: { items: TickerItem[] }) {
  const [now, setNow] = useState(Date.now());
  const [paused, setPaused] = useState(false);
  const [duration, setDuration] = useState(20);
  const group = useRef<HTMLUListElement>(null);
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 5000);
    return () => clearInterval(timer);
  }, []);
  const live = liveItems(items, now);
  const signature = live.map((i) => i.id).join(',');
  useLayoutEffect(() => {
    const width = group.current?.offsetWidth ?? 0;
    setDuration(Math.max(8, Math.round(width / PIXELS_PER_SECOND)));
  }, [signature]);

  const render = (copy: boolean) =>
    live.map((item) => (
      <li key={`${copy ? 'b' : 'a'}${item.id}`} class="ticker-item" data-channel={item.channel}>
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
          {live.length === 0 ? (
            <p class="ticker-empty">{t('tickerEmpty')}</p>
          ) : (
            <div class={`ticker-track${paused ? ' paused' : ''}`} style={{ animationDuration: `${duration}s` }}>
              <ul class="ticker-group" ref={group}>
                {render(false)}
              </ul>
              <ul class="ticker-group" aria-hidden="true">
                {render(true)}
              </ul>
            </div>
          )}
        </div>
        <button type="button" class="icon ticker-pause" aria-pressed={paused} aria-label={paused ? t('play') : t('pause')} title={paused ? t('play') : t('pause')} onClick={() => setPaused(!paused)}>
          <Icon name={paused ? 'play' : 'pause'} size={14} />
        </button>
      </div>
    </section>
  );
}
