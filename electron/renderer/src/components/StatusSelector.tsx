import type { PresenceState } from '../api/index.js';
import { t } from '../i18n.js';

const STATES: PresenceState[] = ['available', 'away', 'busy', 'offline'];

export function StatusSelector({ value, onChange }: { value: PresenceState; onChange: (s: PresenceState) => void }) {
  return (
    <label class="status-select">
      <span class={`dot dot-${value}`} aria-hidden="true" />
      <span class="visually-hidden">{t('myStatus')}</span>
      <select name="status" value={value} onChange={(e) => onChange(e.currentTarget.value as PresenceState)} aria-label={t('myStatus')}>
        {STATES.map((s) => (
          <option value={s} key={s}>
            {s === 'offline' ? t('appearOffline') : t(s)}
          </option>
        ))}
      </select>
    </label>
  );
}
