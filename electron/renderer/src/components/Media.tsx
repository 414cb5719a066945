/**
 * The media area and its function buttons: video (plays like TV: controls, seeking by byte
 * ranges), images, music, live charts, and games in a sandboxed frame (scripts only: an opaque
 * origin with no access to the panel, its storage or the network).
 */
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import type { ChartSeries, MediaItem } from '../api/index.js';
import { t, type Key } from '../i18n.js';
import { Chart } from './Chart.js';
import { Icon, type IconName } from './Icon.js';

export type MediaTab = 'video' | 'image' | 'audio' | 'chart' | 'game';
const TABS: Array<{ tab: MediaTab; label: Key; empty: Key; icon: IconName }> = [
  { tab: 'video', label: 'video', empty: 'noVideo', icon: 'video' },
  { tab: 'image', label: 'images', empty: 'noImages', icon: 'image' },
  { tab: 'audio', label: 'music', empty: 'noMusic', icon: 'music' },
  { tab: 'chart', label: 'charts', empty: 'noCharts', icon: 'chart' },
  { tab: 'game', label: 'games', empty: 'noGames', icon: 'game' },
];

const byPriority = (a: MediaItem, b: MediaItem) => b.priority - a.priority || b.createdAt.localeCompare(a.createdAt) || b.id - a.id;

export function Media({ items, charts, resolveUrl, call, loaded = true }: { items: MediaItem[]; charts: ChartSeries[]; resolveUrl: (path: string) => string; call?: ComponentChildren; loaded?: boolean }) {
  const [chosen, setChosen] = useState<MediaTab | undefined>();
  const [index, setIndex] = useState<Record<string, number>>({});
  const now = Date.now();
  const live = items.filter((i) => !i.expiresAt || Date.parse(i.expiresAt) > now).sort(byPriority);
  const countOf = (tab: MediaTab) => (tab === 'chart' ? charts.length : live.filter((i) => i.kind === tab).length);
  const tab = chosen ?? TABS.find((x) => countOf(x.tab) > 0)?.tab ?? 'image';
  const info = TABS.find((x) => x.tab === tab)!;
  const list = tab === 'chart' ? charts : live.filter((i) => i.kind === tab);
  const count = list.length;
  const at = count ? (((index[tab] ?? 0) % count) + count) % count : 0;
  const step = (d: number) => setIndex({ ...index, [tab]: at + d });

  let stage;
  if (count === 0) stage = <p class="empty media-empty">{loaded ? t(info.empty) : t('loading')}</p>;
  else if (tab === 'chart') {
    const series = charts[at]!;
    stage = <Chart series={series} />;
  } else {
    const item = list[at] as MediaItem;
    const src = resolveUrl(item.url);
    stage =
      item.kind === 'video' ? (
        <video key={item.id} class="media-video" src={src} controls preload="metadata" aria-label={item.title} />
      ) : item.kind === 'image' ? (
        <img key={item.id} class="media-image" src={src} alt={item.title} />
      ) : item.kind === 'audio' ? (
        <div class="media-audio">
          <span class="audio-icon">
            <Icon name="music" size={28} />
          </span>
          <audio key={item.id} src={src} controls preload="metadata" aria-label={item.title} />
        </div>
      ) : (
        <iframe key={item.id} class="media-game" src={src} sandbox="allow-scripts" title={item.title} referrerpolicy="no-referrer" allow="" />
      );
  }
  const title = count === 0 ? '' : tab === 'chart' ? seriesTitle(charts[at]!) : (list[at] as MediaItem).title;
  // A call going on takes the media area (the partner's face and voice) until it ends.
  if (call) {
    return (
      <section class="area media" aria-labelledby="media-title" data-tab="call">
        <h2 id="media-title" class="visually-hidden">
          {t('media')}
        </h2>
        <div class="media-stage stage-call">{call}</div>
      </section>
    );
  }

  return (
    <section class="area media" aria-labelledby="media-title" data-tab={tab}>
      <h2 id="media-title" class="visually-hidden">
        {t('media')}
      </h2>
      <div class="media-buttons" role="group" aria-label={t('mediaButtons')}>
        {TABS.map((x) => (
          <button type="button" key={x.tab} class="media-button" aria-pressed={x.tab === tab} data-tab={x.tab} onClick={() => setChosen(x.tab)}>
            <Icon name={x.icon} />
            <span class="media-label">{t(x.label)}</span>
          </button>
        ))}
      </div>
      <div class={`media-stage stage-${tab}`}>{stage}</div>
      {count > 0 && (
        <div class="media-caption">
          <span class="media-title" title={title}>
            {title}
          </span>
          {count > 1 && (
            <span class="pager">
              <button type="button" class="icon" onClick={() => step(-1)} aria-label={t('previous')}>
                <Icon name="prev" size={16} />
              </button>
              <span class="pager-count">{t('itemOf', { index: at + 1, count })}</span>
              <button type="button" class="icon" onClick={() => step(1)} aria-label={t('next')}>
                <Icon name="next" size={16} />
              </button>
            </span>
          )}
        </div>
      )}
    </section>
  );
}

export function seriesTitle(series: ChartSeries): string {
  return `${series.series}${series.unit ? ` (${series.unit})` : ''}`;
}
