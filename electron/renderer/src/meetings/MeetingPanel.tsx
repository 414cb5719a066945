/**
 * The host's side of meetings (issue 19) in the panel: the Meetings section of the column ("New
 * meeting" with a title and the fixed-number option; each live meeting's number and join link
 * with Copy; the guests knocking: "Incoming: <name> (address) — Allow / Hang up", also a
 * notification), and the meeting itself (people, call, presenting, chat, End meeting confirmed),
 * which the panel shows in its wide pane when no chat is open there, else inline in the section.
 * The call shows in the panel's media area, as every call does.
 */
import { useEffect, useMemo, useState } from 'preact/hooks';
import type { Meeting } from '../api/index.js';
import type { PanelModel } from '../model.js';
import { notify } from '../platform.js';
import { HostMeetings, type HostState } from './host.js';
import { MeetingRoom } from './MeetingRoom.js';
import { formatNumber, S } from './strings.js';

/** The host's meetings store for this panel, attached while the panel is. */
export function useHostMeetings(model: PanelModel): { host: HostMeetings; state: HostState } {
  const host = useMemo(
    () => new HostMeetings(model.client, (k) => notify({ title: S.knockNotice(k.guest.name), body: k.guest.address, tag: `knock-${k.guest.id}` })),
    [model],
  );
  const [state, setState] = useState(host.state);
  useEffect(() => {
    const off = host.subscribe(() => setState(host.state));
    host.attach();
    return () => {
      off();
      host.detach();
    };
  }, [host]);
  return { host, state };
}

export function MeetingPanel({ model, host, state, inline }: { model: PanelModel; host: HostMeetings; state: HostState; inline: boolean }) {
  const [creating, setCreating] = useState(false);
  const [title, setTitle] = useState('');
  const [fixed, setFixed] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const run = (p: Promise<unknown>) => p.catch((err: Error) => setError(err.message));

  const create = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    await run(
      host.create(title.trim() || undefined, fixed).then(() => {
        setCreating(false);
        setTitle('');
        setFixed(false);
      }),
    );
  };

  return (
    <section class="area meetings" aria-labelledby="meetings-title">
      <div class="area-head">
        <h2 id="meetings-title">{S.meetings}</h2>
        <button type="button" class="small meeting-new" aria-expanded={creating} onClick={() => setCreating(!creating)}>
          {S.newMeeting}
        </button>
      </div>
      {creating && (
        <form class="meeting-create" onSubmit={create}>
          <label for="meeting-title">{S.meetingTitle}</label>
          <input id="meeting-title" value={title} maxLength={120} onInput={(e) => setTitle(e.currentTarget.value)} />
          <label class="check">
            <input type="checkbox" checked={fixed} onChange={(e) => setFixed(e.currentTarget.checked)} /> {S.fixedNumber}
          </label>
          <button type="submit" class="primary small meeting-create-go">
            {S.create}
          </button>
        </form>
      )}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {state.meetings.map((m) => (
        <article key={m.id} class="meeting-card" aria-labelledby={`meeting-${m.id}`} data-meeting={m.id}>
          <h3 id={`meeting-${m.id}`}>{m.title || S.meetings}</h3>
          <MeetingNumber meeting={m} />
          {inline && <HostRoom model={model} host={host} state={state} meeting={m} />}
        </article>
      ))}
    </section>
  );
}

/**
 * The guests knocking, on top of the panel like ringing calls (seen even while a chat covers the
 * column): "Incoming: <name> (address)" with Allow / Hang up.
 */
export function Knocks({ host, state }: { host: HostMeetings; state: HostState }) {
  const [error, setError] = useState<string | undefined>();
  const run = (p: Promise<unknown>) => p.catch((err: Error) => setError(err.message));
  if (state.knocks.length === 0 && !error) return null;
  return (
    <div class="requests meeting-knocks">
      {state.knocks.map((k) => (
        <div key={k.guest.id} class="request meeting-knock" role="alertdialog" aria-labelledby={`knock-${k.guest.id}`} data-guest={k.guest.id}>
          <h3 id={`knock-${k.guest.id}`}>{S.incoming(k.guest.name, k.guest.address)}</h3>
          <div class="request-actions">
            <button type="button" class="primary knock-allow" onClick={() => void run(host.answer(k, true))}>
              {S.allow}
            </button>
            <button type="button" class="danger knock-reject" onClick={() => void run(host.answer(k, false))}>
              {S.hangUp}
            </button>
          </div>
        </div>
      ))}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}

/** The live meetings in the panel's wide pane (when no chat is open there). */
export function MeetingPane({ model, host, state }: { model: PanelModel; host: HostMeetings; state: HostState }) {
  return (
    <div class="meeting-pane">
      {state.meetings.map((m) => (
        <section key={m.id} class="meeting-pane-one" aria-labelledby={`pane-${m.id}`}>
          <h2 id={`pane-${m.id}`} class="meeting-pane-title">
            {m.title || S.meetings} <span class="meeting-number-value">{formatNumber(m.number)}</span>
          </h2>
          <HostRoom model={model} host={host} state={state} meeting={m} />
        </section>
      ))}
    </div>
  );
}

function MeetingNumber({ meeting }: { meeting: Meeting }) {
  const link = new URL(meeting.joinUrl, location.origin).href;
  return (
    <dl class="meeting-number">
      <dt>{S.number}</dt>
      <dd>
        <span class="meeting-number-value">{formatNumber(meeting.number)}</span> <CopyButton text={meeting.number} label={S.number} />
      </dd>
      <dt>{S.joinLink}</dt>
      <dd>
        <a class="meeting-link" href={link} target="_blank" rel="noreferrer">
          {link}
        </a>{' '}
        <CopyButton text={link} label={S.joinLink} />
      </dd>
    </dl>
  );
}

function CopyButton({ text, label }: { text: string; label: string }) {
  const [done, setDone] = useState(false);
  return (
    <button
      type="button"
      class="small copy"
      aria-label={`${S.copy}: ${label}`}
      onClick={() =>
        void navigator.clipboard?.writeText(text).then(
          () => {
            setDone(true);
            setTimeout(() => setDone(false), 1500);
          },
          () => {},
        )
      }
    >
      {done ? S.copied : S.copy}
    </button>
  );
}

function HostRoom({ model, host, state, meeting }: { model: PanelModel; host: HostMeetings; state: HostState; meeting: Meeting }) {
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState<string | undefined>();
  return (
    <>
      <MeetingRoom
        client={model.client}
        phone={model.phone}
        meeting={meeting}
        guests={state.guests[meeting.id] ?? []}
        shown={state.shown[meeting.id]}
        isHost
        showCall={false}
        actions={
          confirming ? (
            <span class="meeting-confirm" role="group" aria-label={S.confirmEnd}>
              <span>{S.confirmEnd}</span>
              <button type="button" class="small danger meeting-end-confirm" onClick={() => void host.end(meeting.id).catch((err: Error) => setError(err.message))}>
                {S.endMeeting}
              </button>
              <button type="button" class="small" onClick={() => setConfirming(false)}>
                {S.back}
              </button>
            </span>
          ) : (
            <button type="button" class="small danger meeting-end" onClick={() => setConfirming(true)}>
              {S.endMeeting}
            </button>
          )
        }
      />
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </>
  );
}
