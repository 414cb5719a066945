/**
 * One meeting as a participant sees it (the guest page, and the host's panel): who is there, the
 * call, the presentation and the chat. Meeting events (page, joined) are followed here; what
 * ends the meeting is the caller's business.
 */
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { MeetingDocument, MeetingGuest, PorticoClient } from '../api/index.js';
import type { Phone } from '../calls/manager.js';
import { CallStage, usePhone } from '../components/Call.js';
import { MeetingChat } from './MeetingChat.js';
import { Presentation, type Shown } from './Presentation.js';
import { S } from './strings.js';
import './meetings.css';

export interface RoomMeeting {
  id: string;
  chatId: string;
  title: string;
  host: { username: string; displayName: string };
}

/** Follows a meeting's guests and shown page from the event stream, starting from what is known. */
export function useMeetingState(client: PorticoClient, meetingId: string, initialGuests: MeetingGuest[], initialShown?: Shown) {
  const [guests, setGuests] = useState<MeetingGuest[]>(initialGuests);
  const [shown, setShown] = useState<Shown | undefined>(initialShown);
  useEffect(() => {
    const offs = [
      client.on('meeting.joined', (e: { meetingId: string; guest: MeetingGuest }) => {
        if (e.meetingId === meetingId) setGuests((all) => (all.some((g) => g.id === e.guest.id) ? all : [...all, e.guest]));
      }),
      client.on('meeting.page', (e: { meetingId: string; document: MeetingDocument; page: number }) => {
        if (e.meetingId === meetingId) setShown({ document: e.document, page: e.page });
      }),
    ];
    return () => offs.forEach((off) => off());
  }, [client, meetingId]);
  return { guests, setGuests, shown };
}

export function MeetingRoom({
  client,
  phone,
  meeting,
  guests,
  shown,
  isHost,
  showCall,
  actions,
}: {
  client: PorticoClient;
  phone: Phone;
  meeting: RoomMeeting;
  guests: MeetingGuest[];
  shown: Shown | undefined;
  isHost: boolean;
  /** Show the call's stage here (the guest page); the host's panel shows it in its media area. */
  showCall: boolean;
  actions?: ComponentChildren;
}) {
  const calls = usePhone(phone);
  const [error, setError] = useState<string | undefined>();
  const me = client.user?.username.toLowerCase();
  const nameOf = (username: string) => {
    if (username.toLowerCase() === meeting.host.username.toLowerCase()) return meeting.host.displayName;
    const guest = /^guest-(\d+)$/.exec(username);
    const found = guest && guests.find((g) => g.id === Number(guest[1]));
    return found ? `${found.name} (${S.guest})` : username;
  };
  const current = calls.current?.call.chatId === meeting.chatId ? calls.current : undefined;
  const ringing = calls.incoming.find((c) => c.chatId === meeting.chatId);

  const run = (p: Promise<unknown>) => p.catch((err: Error) => setError(err.message));

  return (
    <div class="meeting-room" data-meeting={meeting.id}>
      <section class="meeting-people" aria-labelledby={`people-${meeting.id}`}>
        <h2 id={`people-${meeting.id}`}>{S.people}</h2>
        <ul>
          <li data-user={meeting.host.username}>
            {meeting.host.displayName} <span class="hint">({S.host})</span>
          </li>
          {guests.map((g) => (
            <li key={g.id} data-guest={g.id} aria-current={me === `guest-${g.id}` ? 'true' : undefined}>
              {g.name} <span class="hint">({S.guest})</span>
            </li>
          ))}
        </ul>
        <div class="meeting-actions">
          {!current && !ringing && (
            <button type="button" class="primary small meeting-call-start" onClick={() => void run(phone.start(meeting.chatId, true))}>
              {S.startCall}
            </button>
          )}
          {!current && ringing && (
            <button type="button" class="primary small meeting-call-join" onClick={() => void run(phone.accept(ringing.id))}>
              {S.joinCall}
            </button>
          )}
          {actions}
        </div>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
      </section>
      {showCall && current && (
        <section class="meeting-call" aria-label={S.call}>
          <CallStage phone={phone} view={current} />
        </section>
      )}
      <Presentation client={client} meetingId={meeting.id} shown={shown} canPresent={isHost} onError={setError} />
      <MeetingChat client={client} chatId={meeting.chatId} nameOf={nameOf} />
    </div>
  );
}
