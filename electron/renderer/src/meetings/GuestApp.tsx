/**
 * The guest page (/join/<number> → /app/#/join/<number>): no account. The number and a name, a
 * camera and microphone check (optional), the knock, "waiting for the host", then the meeting,
 * or why it is over. The guest's token and what it knows of the meeting live in sessionStorage
 * only (this client's storage), so they are gone when the tab closes.
 */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { MeetingAdmitted, PorticoClient } from '../api/index.js';
import { Phone } from '../calls/manager.js';
import { t } from '../i18n.js';
import { MeetingRoom, useMeetingState } from './MeetingRoom.js';
import { formatNumber, S } from './strings.js';

type Phase = { name: 'form' } | { name: 'check' } | { name: 'waiting' } | { name: 'meeting'; admitted: MeetingAdmitted } | { name: 'over'; text: string };

const STATE_KEY = 'portico.guest.phase';

function savedPhase(): Phase | undefined {
  try {
    const p = JSON.parse(sessionStorage.getItem(STATE_KEY) ?? 'null') as Phase | null;
    return p && (p.name === 'waiting' || p.name === 'meeting') ? p : undefined;
  } catch {
    return undefined;
  }
}

export function joinRoute(hash: string): { number: string } | undefined {
  const m = /^#\/join(?:\/(\d{0,11}))?\/?$/.exec(hash);
  return m ? { number: m[1] ?? '' } : undefined;
}

export function GuestApp({ client, number: initialNumber }: { client: PorticoClient; number: string }) {
  const [phase, setPhaseState] = useState<Phase>(() => (client.restoreGuest() && savedPhase()) || { name: 'form' });
  const [number, setNumber] = useState(initialNumber);
  const [name, setName] = useState('');
  const [error, setError] = useState<string | undefined>();
  const phone = useMemo(
    () =>
      new Phone(client, {
        toast: (text) => setError(text),
        text: (key, vars) => t(key, vars),
        error: (err) => setError((err as Error).message),
        ring: () => {},
        ringOver: () => {},
      }),
    [client],
  );

  const setPhase = (p: Phase) => {
    if (p.name === 'waiting' || p.name === 'meeting') sessionStorage.setItem(STATE_KEY, JSON.stringify(p));
    else sessionStorage.removeItem(STATE_KEY);
    setPhaseState(p);
  };
  const done = useRef(false);
  const over = (text: string) => {
    if (done.current) return; // rejected, then the token's 401: the first reason stays
    done.current = true;
    void phone.hangUp();
    client.stop();
    // The token, the cursor, the meeting: nothing of it outlives the meeting (the server's
    // logout answers a guest 403; forgetting here is what counts).
    void client.logout();
    sessionStorage.clear();
    setPhaseState({ name: 'over', text });
  };

  useEffect(() => {
    document.title = `${S.joinTitle} — ${t('appName')}`;
    phone.attach();
    const offs = [
      client.on('meeting.admitted', (e: MeetingAdmitted) => setPhase({ name: 'meeting', admitted: e })),
      client.on('meeting.rejected', () => over(S.rejected)),
      client.on('meeting.ended', () => over(S.ended)),
      client.on('auth', () => over(S.sessionEnded)),
    ];
    if (client.loggedIn) client.start();
    return () => {
      offs.forEach((off) => off());
      phone.detach();
    };
  }, [client, phone]);

  const knock = async () => {
    setError(undefined);
    try {
      await client.knockAs(number, name.trim());
      setPhase({ name: 'waiting' });
      client.start();
    } catch (err) {
      setError((err as Error).message);
    }
  };

  return (
    <main class="guest-page" aria-labelledby="guest-title">
      <header class="guest-head">
        <img class="logo" src="/app/icon.svg" alt="" width={28} height={28} />
        <h1 id="guest-title">{phase.name === 'meeting' ? phase.admitted.meeting.title || S.joinTitle : S.joinTitle}</h1>
      </header>
      {phase.name === 'form' && (
        <form
          class="guest-card guest-form"
          onSubmit={(e) => {
            e.preventDefault();
            if (!/^\d{11}$/.test(number)) return setError(S.badNumber);
            setError(undefined);
            setPhase({ name: 'check' });
          }}
        >
          <p>{S.joinIntro}</p>
          <label for="guest-number">{S.number}</label>
          <input
            id="guest-number"
            inputMode="numeric"
            autocomplete="off"
            required
            value={formatNumber(number)}
            onInput={(e) => setNumber(e.currentTarget.value.replace(/\D/g, '').slice(0, 11))}
            placeholder="123-4567-8901"
          />
          <label for="guest-name">{S.yourName}</label>
          <input id="guest-name" autocomplete="name" required maxLength={64} value={name} onInput={(e) => setName(e.currentTarget.value)} />
          <button type="submit" class="primary">
            {S.next}
          </button>
        </form>
      )}
      {phase.name === 'check' && <DeviceCheck onBack={() => setPhase({ name: 'form' })} onKnock={() => void knock()} />}
      {phase.name === 'waiting' && (
        <div class="guest-card guest-waiting" role="status">
          <span class="spinner" aria-hidden="true" />
          <p>{S.waiting}</p>
          <button type="button" onClick={() => over(S.sessionEnded)}>
            {S.cancel}
          </button>
        </div>
      )}
      {phase.name === 'meeting' && <GuestMeeting client={client} phone={phone} admitted={phase.admitted} />}
      {phase.name === 'over' && (
        <div class="guest-card guest-over" role="alert">
          <p class="guest-over-text">{phase.text}</p>
          <a href="/app/#/join">{S.again}</a>
        </div>
      )}
      {error && (
        <p class="error guest-error" role="alert">
          {error}
        </p>
      )}
    </main>
  );
}

function GuestMeeting({ client, phone, admitted }: { client: PorticoClient; phone: Phone; admitted: MeetingAdmitted }) {
  const { guests, shown } = useMeetingState(client, admitted.meeting.id, admitted.guests, admitted.presentation);
  // What a reload of the tab starts from: who is there and the page shown now.
  useEffect(() => {
    const now: Phase = { name: 'meeting', admitted: { ...admitted, guests, ...(shown ? { presentation: shown } : {}) } };
    if (sessionStorage.getItem(STATE_KEY)) sessionStorage.setItem(STATE_KEY, JSON.stringify(now));
  }, [admitted, guests, shown]);
  return <MeetingRoom client={client} phone={phone} meeting={{ ...admitted.meeting, host: admitted.host }} guests={guests} shown={shown} isHost={false} showCall />;
}

/** A preview of the camera (and that a microphone is there); continuing without them is fine. */
function DeviceCheck({ onBack, onKnock }: { onBack: () => void; onKnock: () => void }) {
  const video = useRef<HTMLVideoElement>(null);
  const [state, setState] = useState<'asking' | 'ok' | 'none'>('asking');
  useEffect(() => {
    let stream: MediaStream | undefined;
    let alive = true;
    const media = navigator.mediaDevices;
    if (!media?.getUserMedia) {
      setState('none');
      return;
    }
    media.getUserMedia({ audio: true, video: { width: { ideal: 640 }, height: { ideal: 480 } } }).then(
      (s) => {
        stream = s;
        if (!alive) return s.getTracks().forEach((tr) => tr.stop());
        setState('ok');
        if (video.current) {
          video.current.srcObject = s;
          video.current.play().catch(() => {});
        }
      },
      () => alive && setState('none'),
    );
    // The call asks again when it starts: the preview's devices are let go here.
    return () => {
      alive = false;
      stream?.getTracks().forEach((tr) => tr.stop());
    };
  }, []);
  return (
    <div class="guest-card guest-check">
      <h2>{S.checkTitle}</h2>
      <p>{S.checkIntro}</p>
      <video class="guest-preview" ref={video} autoplay playsInline muted aria-label={t('selfView')} hidden={state !== 'ok'} />
      {state === 'asking' && <p role="status">{S.askingDevices}</p>}
      {state === 'none' && <p role="status">{S.noDevicesHere}</p>}
      <div class="guest-buttons">
        <button type="button" onClick={onBack}>
          {S.back}
        </button>
        <button type="button" class="primary guest-knock" onClick={onKnock}>
          {S.knock}
        </button>
      </div>
    </div>
  );
}
