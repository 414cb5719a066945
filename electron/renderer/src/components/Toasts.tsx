import { t } from '../i18n.js';
import type { Toast } from '../model.js';
import { Icon } from './Icon.js';

export function Toasts({ toasts, onDismiss }: { toasts: Toast[]; onDismiss: (id: number) => void }) {
  return (
    <div class="toasts" role="log" aria-live="polite" aria-relevant="additions">
      {toasts.map((toast) => (
        <div class={`toast toast-${toast.kind}`} key={toast.id} role={toast.kind === 'error' ? 'alert' : undefined}>
          <span>{toast.text}</span>
          <button type="button" class="icon" onClick={() => onDismiss(toast.id)} aria-label={t('dismiss')}>
            <Icon name="close" size={16} />
          </button>
        </div>
      ))}
    </div>
  );
}
