/**
 * The panel's phone: the call going on (at most one), calls ringing for me, and what the views
 * call (start, accept, decline, hang up, mute, camera off, device choice). It listens to the
 * client's call events, asks for the camera and microphone only when a call starts or is
 * accepted, and hands the media to a CallSession once both have joined. No DOM here.
 */
import type { Call, CallSignal, PorticoClient } from '../api/client.js';
import { CallSession, type CallPath, type MediaState, type SessionTimings } from './session.js';

export type CallPhase = 'ringing' | 'connecting' | 'connected' | 'ended';

export interface CallView {
  call: Call;
  /** I started it (ringing others) or answered it. */
  outgoing: boolean;
  phase: CallPhase;
  path: CallPath | undefined;
  local: MediaStream | undefined;
  remoteStream: MediaStream | undefined;
  remoteUrl: string | undefined;
  muted: boolean;
  cameraOff: boolean;
  /** The media could not connect on any path. */
  failed: boolean;
}

export interface PhoneState {
  current: CallView | undefined;
  /** Calls ringing for me (not started by me), newest last. */
  incoming: Call[];
}

export interface PhoneHooks {
  /** Something to tell the user (a declined or missed call, a device error). */
  toast(text: string, kind: 'info' | 'error'): void;
  /** Texts, from the panel's dictionary. */
  text(key: 'callDeclinedBy' | 'callMissedBy' | 'callEndedFailed' | 'noDevices', vars?: Record<string, string>): string;
  error(error: unknown): void;
  /** A call rings for me (the panel notifies). */
  ring(call: Call): void;
  /** The ring is over (answered, declined, missed). */
  ringOver(callId: string): void;
}

type MediaGetter = (constraints: MediaStreamConstraints) => Promise<MediaStream>;

export class Phone {
  state: PhoneState = { current: undefined, incoming: [] };
  private readonly listeners = new Set<() => void>();
  private readonly offs: Array<() => void> = [];
  private session: CallSession | undefined;
  /** Signals that came before their session (an offer racing the accept). */
  private early = new Map<string, Array<{ from: string; signal: CallSignal }>>();

  constructor(
    readonly client: Pick<PorticoClient, 'on' | 'startCall' | 'acceptCall' | 'declineCall' | 'hangUp' | 'getCall' | 'sendSignal' | 'iceServers' | 'relayFetch' | 'user'>,
    private readonly hooks: PhoneHooks,
    private readonly getMedia: MediaGetter = (c) => navigator.mediaDevices.getUserMedia(c),
    private readonly timings?: SessionTimings,
  ) {}

  get me(): string {
    return (this.client.user?.username ?? '').toLowerCase();
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private set(patch: Partial<PhoneState>) {
    this.state = { ...this.state, ...patch };
    for (const l of [...this.listeners]) l();
  }

  private patchCurrent(patch: Partial<CallView>) {
    if (this.state.current) this.set({ current: { ...this.state.current, ...patch } });
  }

  attach() {
    const c = this.client;
    this.offs.push(
      c.on('call.ring', (e: { call: Call }) => {
        if (e.call.createdBy.toLowerCase() === this.me || e.call.state !== 'ringing') return;
        if (this.state.incoming.some((x) => x.id === e.call.id)) return;
        this.set({ incoming: [...this.state.incoming, e.call] });
        this.hooks.ring(e.call);
      }),
      c.on('call.updated', (e: { call: Call }) => this.updated(e.call)),
      c.on('call.ended', (e: { call: Call }) => this.updated(e.call)),
      c.on('call.signal', (e: { callId: string; from: string; signal: CallSignal }) => {
        if (this.session?.callId === e.callId) void this.session.signal(e.signal);
        else if (this.state.current?.call.id === e.callId || this.state.incoming.some((x) => x.id === e.callId)) {
          const list = this.early.get(e.callId) ?? [];
          list.push({ from: e.from, signal: e.signal });
          this.early.set(e.callId, list.slice(-200));
        }
      }),
      c.on('reset', () => void this.refresh()),
    );
  }

  detach() {
    for (const off of this.offs.splice(0)) off();
    this.cleanup();
  }

  // ---------- what the views call ----------

  /** Calls a chat's other members. Errors (callee_offline, callee_busy) are thrown for the view to show. */
  async start(chatId: string, video = true): Promise<void> {
    if (this.state.current) throw Object.assign(new Error('a call is going on already'), { code: 'call_in_progress' });
    const call = await this.client.startCall(chatId, video);
    this.set({ current: this.view(call, true, 'ringing') });
    try {
      const local = await this.getMedia({ audio: true, video: video ? { width: { ideal: 640 }, height: { ideal: 480 } } : false });
      const now = this.currentView();
      if (now?.call.id !== call.id) {
        stopTracks(local);
        return;
      }
      this.patchCurrent({ local });
      // The callee may have answered while the camera was being asked for.
      if (now.call.state === 'active') this.connect();
    } catch (error) {
      this.hooks.toast(this.hooks.text('noDevices', { message: (error as Error).message }), 'error');
      await this.hangUp();
    }
  }

  async accept(callId: string): Promise<void> {
    const ringing = this.state.incoming.find((x) => x.id === callId);
    if (!ringing) return;
    if (this.state.current) await this.hangUp();
    this.set({ incoming: this.state.incoming.filter((x) => x.id !== callId) });
    this.hooks.ringOver(callId);
    let local: MediaStream;
    try {
      local = await this.getMedia({ audio: true, video: ringing.video ? { width: { ideal: 640 }, height: { ideal: 480 } } : false });
    } catch (error) {
      this.hooks.toast(this.hooks.text('noDevices', { message: (error as Error).message }), 'error');
      await this.client.declineCall(callId).catch(() => {});
      return;
    }
    this.set({ current: { ...this.view(ringing, false, 'connecting'), local } });
    try {
      const call = await this.client.acceptCall(callId);
      if (this.currentView()?.call.id !== callId) return;
      this.patchCurrent({ call });
      this.connect();
    } catch (error) {
      this.hooks.error(error);
      this.cleanup();
    }
  }

  async decline(callId: string): Promise<void> {
    this.set({ incoming: this.state.incoming.filter((x) => x.id !== callId) });
    this.hooks.ringOver(callId);
    this.early.delete(callId);
    try {
      await this.client.declineCall(callId);
    } catch (error) {
      this.hooks.error(error);
    }
  }

  async hangUp(): Promise<void> {
    const current = this.state.current;
    if (!current) return;
    this.cleanup();
    try {
      await this.client.hangUp(current.call.id);
    } catch {
      /* ended already */
    }
  }

  setMuted(muted: boolean) {
    for (const t of this.state.current?.local?.getAudioTracks() ?? []) t.enabled = !muted;
    this.patchCurrent({ muted });
  }

  setCameraOff(cameraOff: boolean) {
    for (const t of this.state.current?.local?.getVideoTracks() ?? []) t.enabled = !cameraOff;
    this.patchCurrent({ cameraOff });
  }

  /** Cameras and microphones to choose from (labels are there once a call has the devices). */
  async devices(): Promise<MediaDeviceInfo[]> {
    const all = await navigator.mediaDevices.enumerateDevices();
    return all.filter((d) => d.kind === 'audioinput' || d.kind === 'videoinput');
  }

  /** Switches to another camera or microphone during the call. */
  async useDevice(kind: 'audioinput' | 'videoinput', deviceId: string) {
    const current = this.state.current;
    const local = current?.local;
    if (!current || !local) return;
    const fresh = await this.getMedia(kind === 'audioinput' ? { audio: { deviceId: { exact: deviceId } } } : { video: { deviceId: { exact: deviceId }, width: { ideal: 640 }, height: { ideal: 480 } } });
    const track = fresh.getTracks()[0]!;
    track.enabled = kind === 'audioinput' ? !current.muted : !current.cameraOff;
    for (const old of kind === 'audioinput' ? local.getAudioTracks() : local.getVideoTracks()) {
      local.removeTrack(old);
      old.stop();
    }
    local.addTrack(track);
    await this.session?.replaceTrack(track);
    this.patchCurrent({ local });
  }

  /** The element showing the partner (for the HTTP relay's playback). */
  attachRemote(element: HTMLMediaElement | undefined) {
    this.session?.attachRemote(element);
  }

  /** The media session (for diagnostics). */
  get media(): CallSession | undefined {
    return this.session;
  }

  // ---------- events ----------

  private updated(call: Call) {
    if (call.state === 'ended' || call.members.some((m) => m.username.toLowerCase() === this.me && m.state !== 'ringing')) {
      if (this.state.incoming.some((x) => x.id === call.id)) {
        this.set({ incoming: this.state.incoming.filter((x) => x.id !== call.id) });
        this.hooks.ringOver(call.id);
      }
    }
    const current = this.state.current;
    if (!current || current.call.id !== call.id) return;
    if (call.state === 'ended') {
      if (current.outgoing && current.phase === 'ringing') {
        const others = call.members.filter((m) => m.username.toLowerCase() !== this.me);
        const names = others.map((m) => m.displayName).join(', ');
        if (call.endReason === 'declined') this.hooks.toast(this.hooks.text('callDeclinedBy', { name: names }), 'info');
        else if (call.endReason === 'missed') this.hooks.toast(this.hooks.text('callMissedBy', { name: names }), 'info');
      }
      this.cleanup();
      return;
    }
    this.patchCurrent({ call });
    if (call.state === 'active' && current.local && !this.session) this.connect();
  }

  /** Both joined and the devices are there: the media session starts. */
  private connect() {
    const current = this.state.current;
    if (!current?.local || this.session) return;
    const peer = current.call.members.find((m) => m.username.toLowerCase() !== this.me && m.state === 'joined');
    if (!peer) return;
    const session = new CallSession(this.client, current.call.id, peer.username, current.outgoing, current.local, current.call.video, () => this.fromSession(session), this.timings);
    this.session = session;
    this.patchCurrent({ phase: 'connecting' });
    for (const e of this.early.get(current.call.id) ?? []) void session.signal(e.signal);
    this.early.delete(current.call.id);
    void session.start();
  }

  private fromSession(session: CallSession) {
    if (session !== this.session) return;
    const state: MediaState = session.state;
    this.patchCurrent({
      phase: state === 'connected' ? 'connected' : 'connecting',
      path: session.path,
      remoteStream: session.remoteStream,
      remoteUrl: session.remoteUrl,
      failed: state === 'failed',
    });
    if (state === 'failed') {
      this.hooks.toast(this.hooks.text('callEndedFailed'), 'error');
      void this.hangUp();
    }
  }

  /** After a reset of the event stream: the call may have ended meanwhile. */
  private async refresh() {
    const current = this.state.current;
    if (!current) return;
    try {
      this.updated(await this.client.getCall(current.call.id));
    } catch {
      this.cleanup();
    }
  }

  /** The current call, read afresh (it may change across an await). */
  private currentView(): CallView | undefined {
    return this.state.current;
  }

  private view(call: Call, outgoing: boolean, phase: CallPhase): CallView {
    return { call, outgoing, phase, path: undefined, local: undefined, remoteStream: undefined, remoteUrl: undefined, muted: false, cameraOff: false, failed: false };
  }

  private cleanup() {
    this.session?.close();
    this.session = undefined;
    const current = this.state.current;
    if (current) {
      this.early.delete(current.call.id);
      if (current.local) stopTracks(current.local);
    }
    this.set({ current: undefined });
  }
}

function stopTracks(stream: MediaStream) {
  for (const t of stream.getTracks()) t.stop();
}
