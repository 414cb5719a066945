/**
 * My profile (issue 17): display name, picture (preview before it goes up), status message with an
 * emoji and an expiry, and the password. Each part saves on its own and says what went wrong in
 * text next to it.
 */
import { useEffect, useState } from 'preact/hooks';
import { LIMITS, PEOPLE_LIMITS, type Me } from '../api/index.js';
import { formatTime, t } from '../i18n.js';
import type { PanelModel } from '../model.js';
import { presetUntil, visibleStatus, type ExpiryPreset } from '../people-view.js';
import { Avatar } from './Avatar.js';
import { Dialog } from './Dialog.js';

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));
const code = (error: unknown) => (error as { code?: unknown } | undefined)?.code;

type Note = { kind: 'ok' | 'error'; text: string } | undefined;

function NoteLine({ note, id }: { note: Note; id: string }) {
  if (!note) return null;
  return (
    <p id={id} class={note.kind === 'error' ? 'form-error' : 'form-ok'} role={note.kind === 'error' ? 'alert' : 'status'}>
      {note.text}
    </p>
  );
}

export function MeDialog({ model, me, onClose }: { model: PanelModel; me: Me; onClose: () => void }) {
  return (
    <Dialog id="me" title={t('myProfile')} onClose={onClose} class="me-dialog">
      <NameSection model={model} me={me} />
      <PictureSection model={model} me={me} />
      <StatusSection model={model} me={me} />
      <PasswordSection model={model} />
    </Dialog>
  );
}

function NameSection({ model, me }: { model: PanelModel; me: Me }) {
  const [name, setName] = useState(me.displayName);
  const [note, setNote] = useState<Note>();
  const [busy, setBusy] = useState(false);
  return (
    <form
      class="dialog-form me-name-form"
      onSubmit={async (e) => {
        e.preventDefault();
        setBusy(true);
        const error = await model.updateMe({ displayName: name });
        setBusy(false);
        setNote(error ? { kind: 'error', text: t('error', { message: message(error) }) } : { kind: 'ok', text: t('saved') });
      }}
    >
      <label class="field">
        <span class="label">{t('displayName')}</span>
        <div class="row">
          <input name="displayName" required maxLength={LIMITS.displayNameChars} value={name} autoComplete="name" onInput={(e) => setName(e.currentTarget.value)} />
          <button type="submit" class="primary" disabled={busy || name.trim() === '' || name.trim() === me.displayName}>
            {t('save')}
          </button>
        </div>
      </label>
      <NoteLine note={note} id="me-name-note" />
    </form>
  );
}

function PictureSection({ model, me }: { model: PanelModel; me: Me }) {
  const [file, setFile] = useState<File | undefined>();
  const [preview, setPreview] = useState<string | undefined>();
  const [note, setNote] = useState<Note>();
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    if (!file) return setPreview(undefined);
    const url = URL.createObjectURL(file);
    setPreview(url);
    return () => URL.revokeObjectURL(url);
  }, [file]);
  const done = (error: unknown) => {
    setBusy(false);
    if (error) setNote({ kind: 'error', text: t('pictureFailed', { message: message(error) }) });
    else {
      setNote({ kind: 'ok', text: t('saved') });
      setFile(undefined);
    }
  };
  return (
    <fieldset class="me-picture">
      <legend>{t('picture')}</legend>
      <div class="row">
        {preview ? <img class="avatar avatar-64 avatar-preview" src={preview} alt="" width={64} height={64} /> : <Avatar username={me.username} displayName={me.displayName} avatarUrl={me.avatarUrl} size={64} />}
        <div class="me-picture-actions">
          <label class="file-pick">
            <span class="file-pick-button">{t('uploadPicture')}</span>
            {file && <span class="file-pick-name">{file.name}</span>}
            <input
              type="file"
              name="avatar"
              accept="image/png,image/jpeg,image/webp,image/gif"
              onChange={(e) => {
                const chosen = e.currentTarget.files?.[0];
                setNote(undefined);
                if (chosen && chosen.size > PEOPLE_LIMITS.avatarBytes) {
                  setNote({ kind: 'error', text: t('pictureFailed', { message: t('pictureHint') }) });
                  setFile(undefined);
                } else setFile(chosen);
              }}
            />
          </label>
          <span class="hint">{t('pictureHint')}</span>
          <div class="row">
            {file && (
              <button
                type="button"
                class="primary save-picture"
                disabled={busy}
                onClick={async () => {
                  setBusy(true);
                  done(await model.setAvatar(file));
                }}
              >
                {t('save')}
              </button>
            )}
            {me.avatarUrl && !file && (
              <button
                type="button"
                class="remove-picture"
                disabled={busy}
                onClick={async () => {
                  setBusy(true);
                  done(await model.setAvatar(null));
                }}
              >
                {t('removePicture')}
              </button>
            )}
          </div>
        </div>
      </div>
      <NoteLine note={note} id="me-picture-note" />
    </fieldset>
  );
}

const PRESETS: Array<{ value: ExpiryPreset; label: Parameters<typeof t>[0] }> = [
  { value: 'none', label: 'expNone' },
  { value: '30m', label: 'exp30m' },
  { value: '1h', label: 'exp1h' },
  { value: 'today', label: 'expToday' },
  { value: 'custom', label: 'expCustom' },
];

function StatusSection({ model, me }: { model: PanelModel; me: Me }) {
  const current = visibleStatus(me.status);
  const [emoji, setEmoji] = useState(current?.emoji ?? '');
  const [text, setText] = useState(current?.text ?? '');
  const [preset, setPreset] = useState<ExpiryPreset>('none');
  const [time, setTime] = useState('');
  const [note, setNote] = useState<Note>();
  const save = async (status: Parameters<PanelModel['updateMe']>[0]['status']) => {
    const error = await model.updateMe({ status });
    setNote(error ? { kind: 'error', text: t('error', { message: message(error) }) } : { kind: 'ok', text: t('saved') });
  };
  return (
    <form
      class="dialog-form me-status-form"
      onSubmit={(e) => {
        e.preventDefault();
        const until = presetUntil(preset, new Date(), time);
        void save({ text: text.trim(), ...(emoji.trim() ? { emoji: emoji.trim() } : {}), ...(until ? { until: until.toISOString() } : {}) });
      }}
    >
      <fieldset>
        <legend>{t('statusMessage')}</legend>
        <div class="row status-inputs">
          <label class="field status-emoji">
            <span class="label">{t('statusEmoji')}</span>
            <input name="statusEmoji" value={emoji} maxLength={PEOPLE_LIMITS.statusEmojiChars} placeholder="📅" onInput={(e) => setEmoji(e.currentTarget.value)} />
          </label>
          <label class="field status-text">
            <span class="label">{t('statusText')}</span>
            <input name="statusText" value={text} maxLength={PEOPLE_LIMITS.statusTextChars} placeholder={t('statusPlaceholder')} onInput={(e) => setText(e.currentTarget.value)} />
          </label>
        </div>
        <div class="row status-expiry">
          <label class="field">
            <span class="label">{t('clearAfter')}</span>
            <select name="statusExpiry" value={preset} onChange={(e) => setPreset(e.currentTarget.value as ExpiryPreset)}>
              {PRESETS.map((p) => (
                <option key={p.value} value={p.value}>
                  {t(p.label)}
                </option>
              ))}
            </select>
          </label>
          {preset === 'custom' && (
            <label class="field">
              <span class="label">{t('expTime')}</span>
              <input type="time" name="statusUntil" required value={time} onInput={(e) => setTime(e.currentTarget.value)} />
            </label>
          )}
        </div>
        {current?.until && <p class="hint">{t('statusUntil', { time: formatTime(current.until) })}</p>}
        <div class="dialog-actions">
          {current && (
            <button type="button" class="clear-status" onClick={() => void save(null).then(() => (setText(''), setEmoji('')))}>
              {t('clearStatus')}
            </button>
          )}
          <button type="submit" class="primary" disabled={text.trim() === '' && emoji.trim() === ''}>
            {t('setStatus')}
          </button>
        </div>
        <NoteLine note={note} id="me-status-note" />
      </fieldset>
    </form>
  );
}

function PasswordSection({ model }: { model: PanelModel }) {
  const [oldPassword, setOld] = useState('');
  const [newPassword, setNew] = useState('');
  const [confirm, setConfirm] = useState('');
  const [note, setNote] = useState<Note>();
  const [busy, setBusy] = useState(false);
  return (
    <form
      class="dialog-form me-password-form"
      onSubmit={async (e) => {
        e.preventDefault();
        if (newPassword.length < LIMITS.passwordMinChars) return setNote({ kind: 'error', text: t('passwordTooShort', { min: LIMITS.passwordMinChars }) });
        if (newPassword !== confirm) return setNote({ kind: 'error', text: t('passwordsDiffer') });
        setBusy(true);
        const error = await model.changePassword(oldPassword, newPassword);
        setBusy(false);
        if (!error) {
          setOld('');
          setNew('');
          setConfirm('');
          return setNote({ kind: 'ok', text: t('passwordChanged') });
        }
        setNote({ kind: 'error', text: code(error) === 'wrong_password' ? t('wrongPassword') : t('error', { message: message(error) }) });
      }}
    >
      <fieldset>
        <legend>{t('changePassword')}</legend>
        {/* A hidden username helps password managers file the new password under the right account. */}
        <input type="text" name="username" autoComplete="username" value={model.username} readOnly hidden />
        <label class="field">
          <span class="label">{t('oldPassword')}</span>
          <input type="password" name="oldPassword" autoComplete="current-password" required value={oldPassword} onInput={(e) => setOld(e.currentTarget.value)} />
        </label>
        <label class="field">
          <span class="label">{t('newPassword')}</span>
          <input type="password" name="newPassword" autoComplete="new-password" required value={newPassword} onInput={(e) => setNew(e.currentTarget.value)} />
        </label>
        <label class="field">
          <span class="label">{t('confirmPassword')}</span>
          <input type="password" name="confirmPassword" autoComplete="new-password" required value={confirm} onInput={(e) => setConfirm(e.currentTarget.value)} />
        </label>
        <div class="dialog-actions">
          <button type="submit" class="primary" disabled={busy}>
            {t('changePassword')}
          </button>
        </div>
        <NoteLine note={note} id="me-password-note" />
      </fieldset>
    </form>
  );
}
