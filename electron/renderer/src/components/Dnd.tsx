/**
 * Do not disturb (issue 17), next to my presence: on for an hour or until tomorrow 08:00, off, and
 * whether mentions still come through while busy. Kept on the server (PATCH /me), so every device
 * of mine agrees; while on, a banner says until when.
 */
import { useRef } from 'preact/hooks';
import type { Me } from '../api/index.js';
import { formatTime, t } from '../i18n.js';
import type { PanelModel } from '../model.js';
import { tomorrowMorning } from '../people-view.js';

/** The time do-not-disturb runs to, while it runs. */
export function dndRunning(me: Me | undefined, now = Date.now()): string | undefined {
  return me?.dndUntil && Date.parse(me.dndUntil) > now ? me.dndUntil : undefined;
}

export function DndMenu({ model, me }: { model: PanelModel; me: Me | undefined }) {
  const menu = useRef<HTMLDetailsElement>(null);
  const until = dndRunning(me);
  const set = (dndUntil: string | null) => {
    menu.current?.removeAttribute('open');
    void model.updateMe({ dndUntil }).then((error) => error && model.error(error));
  };
  return (
    <details class={`dnd${until ? ' on' : ''}`} ref={menu}>
      <summary aria-label={t('dnd')} title={until ? t('dndOn', { time: formatTime(until) }) : t('dnd')}>
        <svg class="icon-svg" width={18} height={18} viewBox="0 0 24 24" fill={until ? 'currentColor' : 'none'} stroke="currentColor" stroke-width="2" stroke-linejoin="round" aria-hidden="true" focusable="false">
          <path d="M20 14.5A8 8 0 0 1 9.5 4a8 8 0 1 0 10.5 10.5z" />
        </svg>
      </summary>
      <div class="dnd-menu" role="group" aria-label={t('dnd')}>
        <button type="button" class="dnd-1h" onClick={() => set(new Date(Date.now() + 3_600_000).toISOString())}>
          {t('dnd')}: {t('dnd1h')}
        </button>
        <button type="button" class="dnd-tomorrow" onClick={() => set(tomorrowMorning(new Date()).toISOString())}>
          {t('dnd')}: {t('dndTomorrow', { time: formatTime(tomorrowMorning(new Date()).toISOString()) })}
        </button>
        {until && (
          <button type="button" class="dnd-off" onClick={() => set(null)}>
            {t('dndOff')}
          </button>
        )}
        <label class="check">
          <input
            type="checkbox"
            name="notifyMentionsWhenBusy"
            checked={me?.notifyMentionsWhenBusy ?? false}
            onChange={(e) => void model.updateMe({ notifyMentionsWhenBusy: e.currentTarget.checked }).then((error) => error && model.error(error))}
          />
          <span>{t('mentionsWhenBusy')}</span>
        </label>
      </div>
    </details>
  );
}

export function DndBanner({ me }: { me: Me | undefined }) {
  const until = dndRunning(me);
  if (!until) return null;
  return (
    <p class="dnd-banner" role="status">
      <span class="dnd-moon" aria-hidden="true">
        ☾
      </span>{' '}
      {t('dndOn', { time: formatTime(until) })}
    </p>
  );
}
