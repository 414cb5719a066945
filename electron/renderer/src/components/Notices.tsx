/** The messages area: current notices, one at a time, rotating (paused on hover/focus or with the button). */
import { useEffect, useState } from 'preact/hooks';
import type { Notice } from '../api/index.js';
import { t } from '../i18n.js';
import { interceptLinks, openExternal } from '../platform.js';
import { Icon } from './Icon.js';

const ROTATE_MS = 8000;

export function currentNotices(notices: Notice[], now: number): Notice[] {
  return notices
    .filter((n) => (!n.startsAt || Date.parse(n.startsAt) <= now) && (!n.endsAt || Date.parse(n.endsAt) > now))
    .sort((a, b) => b.priority - a.priority || b.createdAt.localeCompare(a.createdAt) || b.id - a.id);
}

export function Notices({ notices, loaded = true }: { notices: Notice[]; loaded?: boolean }) {
  const [now, setNow] = useState(Date.now());
  const [index, setIndex] = useState(0);
  const [hold, setHold] = useState(false);
  const [paused, setPaused] = useState(false);
  const list = currentNotices(notices, now);
  const count = list.length;
  useEffect(() => {
    const timer = setInterval(() => {
      setNow(Date.now());
      if (!hold && !paused) setIndex((i) => i + 1);
    }, ROTATE_MS);
    return () => clearInterval(timer);
  }, [hold, paused]);
  const shown = count ? list[((index % count) + count) % count]! : undefined;

  return (
    <section
      class="area notices"
      aria-labelledby="notices-title"
      onMouseEnter={() => setHold(true)}
      onMouseLeave={() => setHold(false)}
      onFocusIn={() => setHold(true)}
      onFocusOut={() => setHold(false)}
    >
      <div class="area-head">
        <h2 id="notices-title">{t('notices')}</h2>
        {count > 1 && (
          <div class="pager">
            <button type="button" class="icon" onClick={() => setIndex(index - 1)} aria-label={t('previous')}>
              <Icon name="prev" size={16} />
            </button>
            <span class="pager-count">{t('itemOf', { index: ((index % count) + count) % count + 1, count })}</span>
            <button type="button" class="icon" onClick={() => setIndex(index + 1)} aria-label={t('next')}>
              <Icon name="next" size={16} />
            </button>
            <button type="button" class="icon" aria-pressed={paused} aria-label={paused ? t('play') : t('pause')} onClick={() => setPaused(!paused)}>
              <Icon name={paused ? 'play' : 'pause'} size={14} />
            </button>
          </div>
        )}
      </div>
      {shown ? (
        <article class={`notice priority-${shown.priority > 0 ? 'high' : 'normal'}`} key={shown.id} data-notice={shown.id}>
          {shown.html !== undefined ? (
            <div class="rich" onClick={interceptLinks} onAuxClick={interceptLinks} dangerouslySetInnerHTML={{ __html: shown.html }} />
          ) : (
            <p class="notice-text">{shown.text}</p>
          )}
          {shown.url && (
            <a
              class="more"
              href={shown.url}
              onClick={(e) => {
                e.preventDefault();
                openExternal(shown.url!);
              }}
            >
              {t('more')}
            </a>
          )}
        </article>
      ) : (
        <p class="empty">{loaded ? t('noNotices') : t('loading')}</p>
      )}
    </section>
  );
}
