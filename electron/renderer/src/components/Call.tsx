/**
 * The video phone's views: the call in the media area (the partner large, myself small, the
 * media path in use, mute / camera / share screen / devices / hang up) and the incoming-call
 * prompts. An audio call shows the partners' avatars (their media element stays, hidden, for the
 * sound); a shared screen takes the stage with everyone's tiles in a strip below it. All the
 * logic is in calls/ (manager.ts, session.ts, screen-share.ts); these only show it.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Call } from '../api/client.js';
import { callerName, type CallView, type Phone, type PhoneState, type RemoteView } from '../calls/manager.js';
import type { CallPath } from '../calls/session.js';
import { joinNames, t, type Key } from '../i18n.js';
import type { PanelModel } from '../model.js';
import { Avatar } from './Avatar.js';
import { Icon } from './Icon.js';
import { CallStateControls, CallStateNote, TransferRingText, type AddPeople, type History } from './CallState.js';

const PATH_LABEL: Record<CallPath, Key> = { direct: 'pathDirect', turn: 'pathTurn', 'http-relay': 'pathHttp' };

export function usePhone(phone: Phone): PhoneState {
  const [state, setState] = useState(phone.state);
  useEffect(() => {
    setState(phone.state);
    return phone.subscribe(() => setState(phone.state));
  }, [phone]);
  return state;
}

const othersOf = (call: Call, me: string) => call.members.filter((m) => m.username.toLowerCase() !== me.toLowerCase()).map((m) => m.displayName);

/** One partner's video (and voice): a WebRTC stream or the HTTP relay's Media Source URL. */
function RemoteVideo({ phone, remote, label }: { phone: Phone; remote: RemoteView; label: string }) {
  const ref = useRef<HTMLVideoElement>(null);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    if (remote.stream) {
      if (el.srcObject !== remote.stream) el.srcObject = remote.stream;
    } else if (remote.url) {
      if (el.srcObject) el.srcObject = null; // assigning it (even null) reloads the element: it would attach the same Media Source twice
      if (el.getAttribute('src') !== remote.url) el.src = remote.url;
    } else {
      if (el.srcObject) el.srcObject = null;
      el.removeAttribute('src');
    }
    el.play().catch(() => {});
    phone.attachRemote(remote.username, el);
  }, [remote.stream, remote.url, remote.username, phone]);
  useEffect(() => () => phone.attachRemote(remote.username, undefined), [phone, remote.username]);
  return (
    <video
      class="call-remote"
      ref={ref}
      autoplay
      playsInline
      aria-label={label}
      title={remote.displayName}
      data-peer={remote.username}
      data-path={remote.path ?? ''}
      data-connected={remote.connected}
    />
  );
}

/** A partner's shared screen: a WebRTC stream or the HTTP relay's Media Source URL. */
function RemoteScreen({ phone, remote }: { phone: Phone; remote: RemoteView }) {
  const ref = useRef<HTMLVideoElement>(null);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    if (remote.screen) {
      if (el.srcObject !== remote.screen) el.srcObject = remote.screen;
    } else if (remote.screenUrl) {
      if (el.srcObject) el.srcObject = null;
      if (el.getAttribute('src') !== remote.screenUrl) el.src = remote.screenUrl;
    }
    el.play().catch(() => {});
    phone.attachScreen(remote.username, el);
  }, [remote.screen, remote.screenUrl, remote.username, phone]);
  useEffect(() => () => phone.attachScreen(remote.username, undefined), [phone, remote.username]);
  return (
    <div class="call-screen-wrap">
      <video class="call-screen" ref={ref} autoplay playsInline muted aria-label={t('screenOf', { name: remote.displayName })} data-peer={remote.username} />
      <span class="call-screen-label">
        <Icon name="screen" size={14} /> {t('screenOf', { name: remote.displayName })}
      </span>
    </div>
  );
}

/** One partner: their video, or (audio call) their avatar with the media element hidden for the sound. */
function RemoteTile({ phone, remote, video }: { phone: Phone; remote: RemoteView; video: boolean }) {
  return (
    <div class="call-tile" data-peer={remote.username} data-video={video}>
      <RemoteVideo phone={phone} remote={remote} label={video ? t('remoteView', { names: remote.displayName }) : remote.displayName} />
      {!video && (
        <div class="call-avatar">
          <Avatar username={remote.username} displayName={remote.displayName} size={64} />
        </div>
      )}
      <span class="call-name">{remote.displayName}</span>
    </div>
  );
}

/** The call going on, in the media area's stage. */
export function CallStage({
  phone,
  view,
  people = [],
  history,
  onAddPeople,
}: {
  phone: Phone;
  view: CallView;
  /** Whom Transfer… and Add people… offer (issue 18). */
  people?: Array<{ username: string; displayName: string }>;
  /** The chat's history sharing: the Add people… picker's choice starts there. */
  history?: History | undefined;
  onAddPeople?: AddPeople;
}) {
  const self = useRef<HTMLVideoElement>(null);
  const names = joinNames(othersOf(view.call, phone.me));
  const [devices, setDevices] = useState<MediaDeviceInfo[]>([]);
  const [showDevices, setShowDevices] = useState(false);

  useEffect(() => {
    const el = self.current;
    if (el && view.local && el.srcObject !== view.local) {
      el.srcObject = view.local;
      el.play().catch(() => {});
    }
  }, [view.local]);

  const status =
    view.phase === 'ringing' ? t('callRinging', { names }) : view.phase === 'connected' ? t('callConnected', { names }) : t('callConnecting');
  const currentOf = (kind: 'audioinput' | 'videoinput') => (kind === 'audioinput' ? view.local?.getAudioTracks()[0] : view.local?.getVideoTracks()[0])?.getSettings().deviceId;

  // The first partner who shares (with a picture to show) takes the stage.
  const presenter = view.remotes.find((r) => r.sharing && (r.screen || r.screenUrl));
  const video = view.call.video;
  return (
    <div class="call" data-phase={view.phase} data-path={view.path ?? ''} data-call={view.call.id} data-video={video} data-layout={presenter ? 'screen' : 'grid'} data-sharing={view.sharing} data-held={view.call.heldBy ? 'true' : undefined}>
      <div class="call-videos" data-count={view.remotes.length}>
        {presenter && <RemoteScreen phone={phone} remote={presenter} />}
        {view.remotes.length === 0 ? (
          <div class="call-waiting">{!video && <Icon name="phone" size={32} />}</div>
        ) : (
          <div class="call-grid">
            {view.remotes.map((r) => (
              <RemoteTile key={r.username} phone={phone} remote={r} video={video} />
            ))}
          </div>
        )}
        {video && <video class="call-self" ref={self} autoplay playsInline muted aria-label={t('selfView')} data-off={view.cameraOff} />}
        <CallStateNote phone={phone} view={view} />
        <p class="call-status" role="status">
          <span class="call-state">{status}</span>
          {view.path && view.phase === 'connected' && (
            <span class="call-path" data-path={view.path} title={t('callPath', { path: t(PATH_LABEL[view.path]) })}>
              {t('callPath', { path: t(PATH_LABEL[view.path]) })}
            </span>
          )}
        </p>
        {view.sharing && (
          <p class="call-sharing-banner" role="status">
            <Icon name="screen" size={14} /> {t('youShare')}
          </p>
        )}
      </div>
      <div class="call-controls" role="group" aria-label={t('callWith', { names })}>
        <button type="button" class="small call-mute" aria-pressed={view.muted} onClick={() => phone.setMuted(!view.muted)} disabled={!view.local}>
          {view.muted ? t('unmute') : t('mute')}
        </button>
        {video && (
          <button type="button" class="small call-camera" aria-pressed={view.cameraOff} onClick={() => phone.setCameraOff(!view.cameraOff)} disabled={!view.local}>
            {view.cameraOff ? t('cameraOn') : t('cameraOff')}
          </button>
        )}
        {canShare() && (
          <button
            type="button"
            class="small call-share"
            aria-pressed={view.sharing}
            disabled={view.phase !== 'connected'}
            onClick={() => void (view.sharing ? phone.stopScreenShare() : phone.startScreenShare()).catch((err: Error) => console.warn('portico: screen share', err.message))}
          >
            <Icon name="screen" size={14} /> {view.sharing ? t('stopSharing') : t('shareScreen')}
          </button>
        )}
        <button
          type="button"
          class="small call-devices"
          aria-expanded={showDevices}
          disabled={!view.local}
          onClick={async () => {
            if (!showDevices) setDevices(await phone.devices().catch(() => []));
            setShowDevices(!showDevices);
          }}
        >
          {t('devices')}
        </button>
        <CallStateControls phone={phone} view={view} people={people} history={history} onAddPeople={onAddPeople} />
        <button type="button" class="small danger call-hangup" onClick={() => void phone.hangUp()}>
          {t('hangUp')}
        </button>
      </div>
      {showDevices && (
        <div class="call-device-list">
          {(['audioinput', 'videoinput'] as const)
            .filter((kind) => kind === 'audioinput' || view.call.video)
            .map((kind) => (
              <label key={kind}>
                {t(kind === 'audioinput' ? 'microphone' : 'camera')}
                <select
                  value={currentOf(kind) ?? ''}
                  onChange={(e) => void phone.useDevice(kind, e.currentTarget.value).catch((err: Error) => console.warn('portico: device', err))}
                >
                  {devices
                    .filter((d) => d.kind === kind)
                    .map((d, i) => (
                      <option key={d.deviceId} value={d.deviceId}>
                        {d.label || `${t(kind === 'audioinput' ? 'microphone' : 'camera')} ${i + 1}`}
                      </option>
                    ))}
                </select>
              </label>
            ))}
        </div>
      )}
    </div>
  );
}

/** Whether this browser (or the desktop shell) can capture a screen. */
const canShare = () => typeof navigator !== 'undefined' && typeof navigator.mediaDevices?.getDisplayMedia === 'function';

/** Calls ringing for me: Accept / Decline for each, on top of the panel. */
export function IncomingCalls({ model, calls }: { model: PanelModel; calls: Call[] }) {
  const me = model.username;
  if (calls.length === 0) return null;
  return (
    <div class="requests incoming-calls">
      {calls.map((call) => {
        const from = callerName(call, me);
        const id = `ring-${call.id}`;
        return (
          <div key={call.id} class="request incoming-call" role="alertdialog" aria-labelledby={id} aria-describedby={`${id}-text`} data-call={call.id}>
            <h2 id={id}>
              <Icon name={call.video ? 'video' : 'phone'} size={16} /> {call.transfer ? t('incomingTransferTitle') : call.video ? t('incomingCall') : t('incomingAudioCall')}
            </h2>
            <p id={`${id}-text`}>{call.transfer ? <TransferRingText call={call} me={me} /> : t('incomingCallFrom', { name: from })}</p>
            <div class="request-actions">
              <button type="button" class="primary call-accept" onClick={() => void model.acceptCall(call.id)}>
                {t('accept')}
              </button>
              <button type="button" class="call-decline" onClick={() => void model.phone.decline(call.id)}>
                {t('decline')}
              </button>
            </div>
          </div>
        );
      })}
    </div>
  );
}
