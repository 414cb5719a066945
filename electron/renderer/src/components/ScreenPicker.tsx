/**
 * The desktop shell's screen source picker (issue 18; docs/calls.md): when a call shares a screen,
 * the main process offers the screens and windows through the preload bridge and this dialog
 * answers the one picked (Escape, Cancel or closing: none, and nothing is shared). Thumbnails are
 * the data: URLs main made (anything else is not shown), names are text. In a browser there is no
 * bridge and the browser's own picker shows instead.
 */
import { useEffect, useState } from 'preact/hooks';
import type { DisplaySource } from '../../../preload/bridge.js';
import { t } from '../i18n.js';
import { onDisplaySourceRequest } from '../platform.js';
import { Dialog } from './Dialog.js';

interface Asked {
  sources: DisplaySource[];
  answer: (id: string | null) => void;
}

/** A thumbnail main made: a PNG data: URL, nothing else. */
const picture = (url: string) => (/^data:image\/png;base64,[A-Za-z0-9+/=]+$/.test(url) ? url : undefined);

/** Registers the picker with the shell while mounted and shows it when asked. */
export function ScreenPicker() {
  const [asked, setAsked] = useState<Asked | undefined>(undefined);
  useEffect(
    () =>
      onDisplaySourceRequest(
        (sources) =>
          new Promise<string | null>((resolve) => {
            setAsked((before) => {
              before?.answer(null); // a newer question replaces an open one
              return {
                sources,
                answer: (id) => {
                  setAsked(undefined);
                  resolve(id);
                },
              };
            });
          }),
      ),
    [],
  );
  if (!asked) return null;
  return <ScreenPickerDialog sources={asked.sources} onAnswer={asked.answer} />;
}

export function ScreenPickerDialog({ sources, onAnswer }: { sources: DisplaySource[]; onAnswer: (id: string | null) => void }) {
  const [chosen, setChosen] = useState<string | undefined>(sources[0]?.id);
  const groups = [
    { kind: 'screen' as const, title: t('screens') },
    { kind: 'window' as const, title: t('windows') },
  ].filter((g) => sources.some((s) => s.kind === g.kind));
  return (
    <Dialog id="screen-picker" title={t('shareWhat')} class="screen-picker" onClose={() => onAnswer(null)}>
      <form
        class="screen-picker-form"
        onSubmit={(e) => {
          e.preventDefault();
          if (chosen) onAnswer(chosen);
        }}
      >
        <div class="screen-picker-scroll">
        {groups.map((g) => (
          <fieldset key={g.kind} class="screen-picker-group">
            <legend>{g.title}</legend>
            <div class="screen-picker-list">
              {sources
                .filter((s) => s.kind === g.kind)
                .map((s) => {
                  const url = picture(s.thumbnail);
                  return (
                    <label key={s.id} class="screen-source" data-source={s.id} title={s.name}>
                      {/* The keyboard starts on the first source (arrows move, Enter shares); showModal honours autofocus. */}
                      <input type="radio" name="screen-source" value={s.id} checked={chosen === s.id} autofocus={s.id === sources[0]?.id} onChange={() => setChosen(s.id)} />
                      {url ? <img src={url} alt="" /> : <span class="screen-source-blank" aria-hidden="true" />}
                      <span class="screen-source-name">{s.name}</span>
                    </label>
                  );
                })}
            </div>
          </fieldset>
        ))}
        </div>
        <div class="screen-picker-actions">
          <button type="submit" class="primary screen-picker-share" disabled={!chosen}>
            {t('share')}
          </button>
          <button type="button" class="screen-picker-cancel" onClick={() => onAnswer(null)}>
            {t('cancel')}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
