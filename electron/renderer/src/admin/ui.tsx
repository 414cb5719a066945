/** Small pieces every section of the admin console uses: loading, errors, confirmations, secrets shown once. */
import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ta } from './strings.js';

/** Loads on mount and on reload(); keeps the last data while reloading. */
export function useLoad<T>(load: () => Promise<T>) {
  const [data, setData] = useState<T | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let alive = true;
    load().then(
      (value) => {
        if (!alive) return;
        setData(value);
        setError(undefined);
      },
      (err: Error) => alive && setError(err.message),
    );
    return () => {
      alive = false;
    };
  }, [tick]);
  const reload = useCallback(() => setTick((n) => n + 1), []);
  return { data, error, reload };
}

/** Runs an action, shows its error (the server's message) until the next one, then reloads. */
export function useAction(after: () => void) {
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const run = async (action: () => Promise<unknown>): Promise<boolean> => {
    setBusy(true);
    setError(undefined);
    try {
      await action();
      after();
      return true;
    } catch (err) {
      setError((err as Error).message);
      return false;
    } finally {
      setBusy(false);
    }
  };
  return { run, error, busy };
}

export function Loading({ error, children, ready }: { error?: string | undefined; ready: boolean; children: ComponentChildren }) {
  if (error) return <p class="form-error" role="alert">{ta('failed', { message: error })}</p>;
  if (!ready) return <p class="admin-muted" role="status">{ta('loading')}</p>;
  return <>{children}</>;
}

export function ErrorLine({ error }: { error?: string | undefined }) {
  return error ? <p class="form-error" role="alert">{error}</p> : null;
}

/** A button that asks first, in a modal dialog naming what will happen. */
export function ConfirmButton({ label, question, onConfirm, danger = true, disabled }: { label: string; question: string; onConfirm: () => void; danger?: boolean; disabled?: boolean }) {
  const dialog = useRef<HTMLDialogElement>(null);
  return (
    <>
      <button type="button" class={danger ? 'small danger' : 'small'} disabled={disabled} onClick={() => dialog.current?.showModal()}>
        {label}
      </button>
      <dialog ref={dialog} class="admin-dialog" aria-label={question}>
        <form method="dialog">
          <p>{question}</p>
          <div class="admin-dialog-actions">
            <button type="submit" value="cancel" autoFocus>
              {ta('cancel')}
            </button>
            <button type="submit" value="ok" class={danger ? 'danger' : 'primary'} onClick={() => onConfirm()}>
              {label}
            </button>
          </div>
        </form>
      </dialog>
    </>
  );
}

/** A password or key shown once, with a copy button; gone when dismissed. */
export function SecretOnce({ title, value, onDone }: { title: string; value: string; onDone: () => void }) {
  const [copied, setCopied] = useState(false);
  return (
    <div class="admin-secret" role="alert">
      <p>{title}</p>
      <code class="admin-secret-value">{value}</code>
      <div class="admin-row">
        <button
          type="button"
          class="small"
          onClick={() =>
            navigator.clipboard?.writeText(value).then(
              () => setCopied(true),
              () => setCopied(false),
            )
          }
        >
          {copied ? ta('copied') : ta('copy')}
        </button>
        <button type="button" class="small" onClick={onDone}>
          {ta('close')}
        </button>
      </div>
    </div>
  );
}

/** A one-field form: a user ID to add (cleared when added), or a value to change (`initial`, kept). */
export function InlineAdd({ label, onAdd, busy, initial = '', submit = ta('add') }: { label: string; onAdd: (value: string) => Promise<boolean>; busy: boolean; initial?: string; submit?: string }) {
  const [value, setValue] = useState(initial);
  return (
    <form
      class="admin-row"
      onSubmit={async (e) => {
        e.preventDefault();
        if (value.trim() && (await onAdd(value.trim())) && !initial) setValue('');
      }}
    >
      <label class="admin-inline-field">
        <span class="visually-hidden">{label}</span>
        <input value={value} placeholder={label} onInput={(e) => setValue(e.currentTarget.value)} />
      </label>
      <button type="submit" class="small" disabled={busy || !value.trim()}>
        {submit}
      </button>
    </form>
  );
}

export const splitList = (text: string) =>
  text
    .split(/[,\s、]+/)
    .map((s) => s.trim())
    .filter(Boolean);

/** A table with a header row; `actions` adds a last column for row buttons (labelled for screen readers). */
export function AdminTable({ columns, actions, children }: { columns: string[]; actions?: string; children: ComponentChildren }) {
  return (
    <table class="admin-table">
      <thead>
        <tr>
          {columns.map((name) => (
            <th scope="col" key={name}>
              {name}
            </th>
          ))}
          {actions && (
            <th scope="col">
              <span class="visually-hidden">{actions}</span>
            </th>
          )}
        </tr>
      </thead>
      <tbody>{children}</tbody>
    </table>
  );
}
