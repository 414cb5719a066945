/** The small settings menu: language, how updates are fetched, the ticker's settings, sign out. */
import { useRef, useState } from 'preact/hooks';
import type { ModeSetting } from '../api/index.js';
import { t, type Language } from '../i18n.js';
import type { PanelModel } from '../model.js';
import { Icon } from './Icon.js';
import { LanguagePicker } from './LanguagePicker.js';

export function Settings({
  model,
  lang,
  onLanguage,
  onSignOut,
  onTicker,
  onProfile,
}: {
  model: PanelModel;
  lang: Language;
  onLanguage: (l: Language) => void;
  onSignOut: () => void;
  onTicker: () => void;
  onProfile?: (() => void) | undefined;
}) {
  const [mode, setMode] = useState<ModeSetting>(model.client.modeSetting);
  const menu = useRef<HTMLDetailsElement>(null);
  return (
    <details class="settings" ref={menu}>
      <summary aria-label={t('settings')} title={t('settings')}>
        <Icon name="settings" size={20} />
      </summary>
      <div class="settings-menu">
        <LanguagePicker lang={lang} onLanguage={onLanguage} />
        <label class="field inline">
          <span class="label">{t('polling')}</span>
          <select
            value={mode}
            onChange={(e) => {
              const next = e.currentTarget.value as ModeSetting;
              model.client.setMode(next);
              setMode(next);
            }}
          >
            <option value="auto">{t('pollingAuto')}</option>
            <option value="long">{t('pollingLong')}</option>
            <option value="interval">{t('pollingInterval', { seconds: 30 })}</option>
          </select>
        </label>
        {onProfile && (
          <button
            type="button"
            class="profile-open"
            onClick={() => {
              menu.current?.removeAttribute('open');
              onProfile();
            }}
          >
            {t('myProfile')}…
          </button>
        )}
        <button
          type="button"
          class="ticker-settings-open"
          onClick={() => {
            menu.current?.removeAttribute('open');
            onTicker();
          }}
        >
          {t('tickerSettings')}…
        </button>
        <button type="button" onClick={onSignOut}>
          {t('signOut')}
        </button>
      </div>
    </details>
  );
}
