/** The ticker as I want it: which channels and in what order (PUT /channels/mine), and how fast it scrolls (kept on this computer). */
import { useEffect, useState } from 'preact/hooks';
import { t } from '../i18n.js';
import type { PanelModel } from '../model.js';
import { usePanel } from '../model.js';
import { Dialog } from './Dialog.js';
import { Icon } from './Icon.js';
import type { TickerSpeed } from './Ticker.js';

const SPEED_KEY = 'portico.ticker-speed';

export function storedSpeed(): TickerSpeed {
  try {
    const v = localStorage.getItem(SPEED_KEY);
    if (v === 'slow' || v === 'normal' || v === 'fast') return v;
  } catch {
    /* default */
  }
  return 'normal';
}

export function TickerSettings({ model, speed, onSpeed, onClose }: { model: PanelModel; speed: TickerSpeed; onSpeed: (s: TickerSpeed) => void; onClose: () => void }) {
  const state = usePanel(model);
  const [order, setOrder] = useState<string[] | undefined>();
  const [chosen, setChosen] = useState<Set<string>>(new Set());
  const [pace, setPace] = useState<TickerSpeed>(speed);
  useEffect(() => void model.loadChannels(), [model]);
  useEffect(() => {
    const view = state.channels;
    if (!view || order) return;
    // My channels first, in my order; then the rest. None chosen: the defaults, ticked.
    const mine = view.mine.length ? view.mine : view.channels.filter((c) => c.isDefault).map((c) => c.name);
    setOrder([...mine, ...view.channels.map((c) => c.name).filter((n) => !mine.includes(n))]);
    setChosen(new Set(mine));
  }, [state.channels, order]);
  const titleOf = (name: string) => state.channels?.channels.find((c) => c.name === name)?.title || name;
  const move = (i: number, by: number) => {
    if (!order) return;
    const next = [...order];
    const [item] = next.splice(i, 1);
    next.splice(i + by, 0, item!);
    setOrder(next);
  };

  return (
    <Dialog id="ticker-settings" title={t('tickerSettings')} onClose={onClose} class="ticker-dialog">
      <form
        class="dialog-form"
        onSubmit={async (e) => {
          e.preventDefault();
          try {
            localStorage.setItem(SPEED_KEY, pace);
          } catch {
            /* this session only */
          }
          onSpeed(pace);
          if (order && (await model.setChannels(order.filter((n) => chosen.has(n))))) onClose();
        }}
      >
        <fieldset class="channel-set">
          <legend>{t('tickerChannels')}</legend>
          {!order ? (
            <p class="empty">{t('loading')}</p>
          ) : (
            <ul class="channel-list">
              {order.map((name, i) => (
                <li key={name} class="channel-row" data-channel={name}>
                  <label class="check">
                    <input
                      type="checkbox"
                      checked={chosen.has(name)}
                      onChange={(e) => {
                        const next = new Set(chosen);
                        if (e.currentTarget.checked) next.add(name);
                        else next.delete(name);
                        setChosen(next);
                      }}
                    />
                    {titleOf(name)}
                  </label>
                  <button type="button" class="icon" disabled={i === 0} aria-label={t('moveUp', { name: titleOf(name) })} title={t('moveUp', { name: titleOf(name) })} onClick={() => move(i, -1)}>
                    <Icon name="up" size={16} />
                  </button>
                  <button type="button" class="icon" disabled={i === order.length - 1} aria-label={t('moveDown', { name: titleOf(name) })} title={t('moveDown', { name: titleOf(name) })} onClick={() => move(i, 1)}>
                    <Icon name="down" size={16} />
                  </button>
                </li>
              ))}
            </ul>
          )}
          <p class="hint">{t('tickerDefault')}</p>
        </fieldset>
        <label class="field inline">
          <span class="label">{t('tickerSpeed')}</span>
          <select name="ticker-speed" value={pace} onChange={(e) => setPace(e.currentTarget.value as TickerSpeed)}>
            <option value="slow">{t('speedSlow')}</option>
            <option value="normal">{t('speedNormal')}</option>
            <option value="fast">{t('speedFast')}</option>
          </select>
        </label>
        <div class="dialog-actions">
          <button type="button" onClick={onClose}>
            {t('cancel')}
          </button>
          <button type="submit" class="primary" disabled={!order}>
            {t('save')}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
