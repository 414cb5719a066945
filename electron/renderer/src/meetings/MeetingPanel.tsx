/**
 * The host's side of meetings (issue 19), a section of the panel: "New meeting" (title, fixed
 * number), each live meeting with its number and join link (Copy), the guests knocking
 * ("Incoming: <name> (address) — Allow / Hang up", also a notification), and the meeting itself
 * (people, call, presenting, chat) with End meeting (confirmed). The call shows in the panel's
 * media area, as every call does.
 */
import { useEffect, useState } from 'preact/hooks';
import type { KnockingGuest, Meeting, MeetingGuest } from '../api/index.js';
import type { PanelModel } from '../model.js';
import { notify } from '../platform.js';
import { MeetingRoom, useMeetingState } from './MeetingRoom.js';
import { formatNumber, S } from './strings.js';

interface Knock {
  meetingId: string;
  guest: KnockingGuest;
}

export function MeetingPanel({ model }: { model: PanelModel }) {
  const client = model.client;
  const [meetings, setMeetings] = useState<Meeting[]>([]);
  const [knocks, setKnocks] = useState<Knock[]>([]);
  const [creating, setCreating] = useState(false);
  const [title, setTitle] = useState('');
  const [fixed, setFixed] = useState(false);
  const [error, setError] = useState<string | undefined>();

  useEffect(() => {
    client.meetings().then(setMeetings, () => {});
    const offs = [
      client.on('meeting.knock', (e: Knock) => {
        setKnocks((all) => (all.some((k) => k.guest.id === e.guest.id) ? all : [...all, { meetingId: e.meetingId, guest: e.guest }]));
        notify({ title: S.knockNotice(e.guest.name), body: e.guest.address, tag: `knock-${e.guest.id}` });
      }),
      client.on('meeting.ended', (e: { meetingId: string }) => {
        setMeetings((all) => all.filter((m) => m.id !== e.meetingId));
        setKnocks((all) => all.filter((k) => k.meetingId !== e.meetingId));
      }),
      client.on('reset', () => void client.meetings().then(setMeetings, () => {})),
    ];
    return () => offs.forEach((off) => off());
  }, [client]);

  const create = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    try {
      const meeting = await client.createMeeting(title.trim() || undefined, fixed);
      // A new fixed meeting ends the previous one on that number.
      setMeetings((all) => [...all.filter((m) => m.id !== meeting.id && !(fixed && m.number === meeting.number)), meeting]);
      setCreating(false);
      setTitle('');
      setFixed(false);
    } catch (err) {
      setError((err as Error).message);
    }
  };

  const answer = async (knock: Knock, admit: boolean) => {
    setKnocks((all) => all.filter((k) => k.guest.id !== knock.guest.id));
    try {
      if (admit) await client.admitGuest(knock.meetingId, knock.guest.id);
      else await client.rejectGuest(knock.meetingId, knock.guest.id);
    } catch (err) {
      setError((err as Error).message);
    }
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
      {knocks.map((k) => (
        <div key={k.guest.id} class="request meeting-knock" role="alertdialog" aria-labelledby={`knock-${k.guest.id}`} data-guest={k.guest.id}>
          <h3 id={`knock-${k.guest.id}`}>{S.incoming(k.guest.name, k.guest.address)}</h3>
          <div class="request-actions">
            <button type="button" class="primary knock-allow" onClick={() => void answer(k, true)}>
              {S.allow}
            </button>
            <button type="button" class="danger knock-reject" onClick={() => void answer(k, false)}>
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
      {meetings.map((m) => (
        <HostMeeting key={m.id} model={model} meeting={m} onEnded={() => setMeetings((all) => all.filter((x) => x.id !== m.id))} onError={setError} />
      ))}
    </section>
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

function HostMeeting({ model, meeting, onEnded, onError }: { model: PanelModel; meeting: Meeting; onEnded: () => void; onError: (m: string) => void }) {
  const client = model.client;
  const { guests, shown } = useMeetingState(client, meeting.id, [] as MeetingGuest[]);
  const [confirming, setConfirming] = useState(false);
  const link = new URL(meeting.joinUrl, location.origin).href;
  const end = async () => {
    try {
      await client.endMeeting(meeting.id);
      onEnded();
    } catch (err) {
      onError((err as Error).message);
    }
  };
  return (
    <article class="meeting-card" aria-labelledby={`meeting-${meeting.id}`} data-meeting={meeting.id}>
      <h3 id={`meeting-${meeting.id}`}>{meeting.title || S.meetings}</h3>
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
      <MeetingRoom
        client={client}
        phone={model.phone}
        meeting={meeting}
        guests={guests}
        shown={shown}
        isHost
        showCall={false}
        actions={
          confirming ? (
            <span class="meeting-confirm" role="group" aria-label={S.confirmEnd}>
              <span>{S.confirmEnd}</span>
              <button type="button" class="small danger meeting-end-confirm" onClick={() => void end()}>
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
    </article>
  );
}
