import type { ConnectionState, PollMode } from '../api/index.js';
import { t } from '../i18n.js';

export function ConnectionIndicator({ state, mode }: { state: ConnectionState; mode: PollMode }) {
  const text = state === 'online' ? t('online') : state === 'connecting' ? t('reconnecting') : t('connOffline');
  const modeText = mode === 'long' ? t('modeLong') : t('modeInterval');
  return (
    <span class={`conn conn-${state}`} role="status" aria-label={`${t('connection')}: ${text}, ${modeText}`} data-state={state} data-mode={mode}>
      <span class="conn-dot" aria-hidden="true" />
      <span aria-hidden="true">
        {text} · {modeText}
      </span>
    </span>
  );
}
