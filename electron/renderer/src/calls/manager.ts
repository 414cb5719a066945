/**
 * The panel's phone: the call going on (at most one), calls ringing for me, and what the views
 * call (start, accept, decline, hang up, mute, camera off, device choice). It listens to the
 * client's call events, asks for the camera and microphone only when a call starts or is
 * accepted, and runs one CallSession per other member who joined (a mesh: up to 4 people). In
 * each pair the caller, else the smaller username, makes the offers. On the HTTP relay my
 * media is recorded and uploaded once, whoever reads it. No DOM here.
 */
import type { Call, CallSignal, PorticoClient } from '../api/client.js';
import { RelaySender, recorderType } from './relay-media.js';
import { pickScreen, ScreenShare } from './screen-share.js';
import { CallSession, type CallPath, type SessionTimings } from './session.js';

export type CallPhase = 'ringing' | 'connecting' | 'connected' | 'ended';

/** One other member's media. */
export interface RemoteView {
  username: string;
  displayName: string;
  connected: boolean;
  path: CallPath | undefined;
  /** A stream (WebRTC) or a URL (HTTP relay, Media Source). */
  stream: MediaStream | undefined;
  url: string | undefined;
  /** They share a screen; its picture (a stream on WebRTC, a URL on the HTTP relay). */
  sharing: boolean;
  screen: MediaStream | undefined;
  screenUrl: string | undefined;
}

export interface CallView {
  call: Call;
  /** I started it (ringing others) or answered it. */
  outgoing: boolean;
  phase: CallPhase;
  /** The path of the first connected partner (the one shown in a 1:1 call). */
  path: CallPath | undefined;
  local: MediaStream | undefined;
  remotes: RemoteView[];
  muted: boolean;
  cameraOff: boolean;
  /** I share a screen or window. */
  sharing: boolean;
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
  text(key: 'callDeclinedBy' | 'callMissedBy' | 'callEndedFailed' | 'noDevices' | 'callTransferred', vars?: Record<string, string>): string;
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
  /** Per other member (lower-case username) who joined: their media session. */
  private readonly sessions = new Map<string, CallSession>();
  /** Signals that came before their session (an offer racing the accept). */
  private early = new Map<string, Array<{ from: string; signal: CallSignal }>>();
  /** My uploads to the HTTP relay, while any session uses it. */
  private sender: RelaySender | undefined;
  private senderUsers = 0;
  /** My screen share, if any (screen-share.ts). */
  private screen: ScreenShare | undefined;

  constructor(
    readonly client: Pick<
      PorticoClient,
      'on' | 'startCall' | 'acceptCall' | 'declineCall' | 'hangUp' | 'getCall' | 'sendSignal' | 'iceServers' | 'relayFetch' | 'user' | 'joinCall' | 'holdCall' | 'resumeCall' | 'transferCall' | 'ringCall'
    >,
    private readonly hooks: PhoneHooks,
    private readonly getMedia: MediaGetter = (c) => navigator.mediaDevices.getUserMedia(c),
    private readonly timings?: SessionTimings,
    private readonly getDisplay?: (constraints: DisplayMediaStreamOptions) => Promise<MediaStream>,
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
        // Only while it rings me: a new call, a transfer's target, or rung into a running call (call-state.ts).
        if (e.call.members.find((m) => m.username.toLowerCase() === this.me)?.state !== 'ringing') return;
        if (this.state.current?.call.id === e.call.id) return;
        if (this.state.incoming.some((x) => x.id === e.call.id)) return;
        this.set({ incoming: [...this.state.incoming, e.call] });
        this.hooks.ring(e.call);
      }),
      c.on('call.updated', (e: { call: Call }) => this.updated(e.call)),
      c.on('call.ended', (e: { call: Call }) => this.updated(e.call)),
      c.on('call.held', (e: { call: Call }) => this.updated(e.call)),
      c.on('call.resumed', (e: { call: Call }) => this.updated(e.call)),
      c.on('call.signal', (e: { callId: string; from: string; signal: CallSignal }) => {
        const session = this.sessions.get(e.from.toLowerCase());
        if (session?.callId === e.callId) void session.signal(e.signal);
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

  /** Joins (or rejoins) a call running in one of my chats (issue 18): the mesh then connects me with each one in it. */
  async join(call: Call): Promise<void> {
    if (this.state.current?.call.id === call.id) return;
    if (this.state.current) await this.hangUp();
    let local: MediaStream;
    try {
      local = await this.getMedia({ audio: true, video: call.video ? { width: { ideal: 640 }, height: { ideal: 480 } } : false });
    } catch (error) {
      this.hooks.toast(this.hooks.text('noDevices', { message: (error as Error).message }), 'error');
      return;
    }
    this.set({ current: { ...this.view(call, false, 'connecting'), local } });
    try {
      const joined = await this.client.joinCall(call.id);
      if (this.currentView()?.call.id !== call.id) return;
      this.patchCurrent({ call: joined });
      this.connect();
    } catch (error) {
      this.hooks.error(error);
      this.cleanup();
    }
  }

  /** Puts the call on hold (media pauses both ways) or resumes it. */
  async hold(hold: boolean): Promise<void> {
    const current = this.state.current;
    if (!current) return;
    try {
      this.updated(hold ? await this.client.holdCall(current.call.id) : await this.client.resumeCall(current.call.id));
    } catch (error) {
      this.hooks.error(error);
    }
  }

  /** Hands the call to a colleague (they are rung; the call is on hold meanwhile). Errors are thrown for the view. */
  async transfer(to: string, reason?: string, warm = false): Promise<void> {
    const current = this.state.current;
    if (!current) return;
    this.updated(await this.client.transferCall(current.call.id, to, reason, warm));
  }

  /** Rings members of the call's chat who are not in it (they answer to join). Errors are thrown for the view. */
  async ring(usernames: string[]): Promise<void> {
    const current = this.state.current;
    if (!current || usernames.length === 0) return;
    this.updated(await this.client.ringCall(current.call.id, usernames));
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
    for (const session of this.sessions.values()) await session.replaceTrack(track);
    this.patchCurrent({ local });
  }

  /** The element showing a partner (for the HTTP relay's playback). */
  attachRemote(username: string, element: HTMLMediaElement | undefined) {
    this.sessions.get(username.toLowerCase())?.attachRemote(element);
  }

  /** The element showing a partner's shared screen (for the HTTP relay's playback). */
  attachScreen(username: string, element: HTMLMediaElement | undefined) {
    this.sessions.get(username.toLowerCase())?.attachScreen(element);
  }

  /** Shares a screen or window with everyone in the call (the picker's cancel throws, for the view to ignore). */
  async startScreenShare(): Promise<void> {
    const current = this.state.current;
    if (!current || this.screen) return;
    const stream = await pickScreen(this.getDisplay);
    if (this.currentView()?.call.id !== current.call.id || this.screen) {
      for (const t of stream.getTracks()) t.stop();
      return;
    }
    const callId = current.call.id;
    const share = (this.screen = new ScreenShare(stream, async (seq, chunk, signal) => {
      await this.client.relayFetch(`/api/v1/calls/${encodeURIComponent(callId)}/relay/${seq}?stream=screen`, { method: 'PUT', body: chunk, signal });
    }));
    // The browser's own "Stop sharing" ends the track.
    share.track?.addEventListener('ended', () => {
      if (this.screen === share) void this.stopScreenShare();
    });
    share.relay(this.senderUsers > 0);
    this.patchCurrent({ sharing: true });
    await Promise.all([...this.sessions.values()].map((s) => this.tellScreen(s, share)));
  }

  async stopScreenShare(): Promise<void> {
    const share = this.screen;
    if (!share) return;
    this.screen = undefined;
    share.stop();
    this.patchCurrent({ sharing: false });
    await Promise.all([...this.sessions.values()].map((s) => this.tellScreen(s, undefined)));
  }

  /** A partner gets my screen (or its end) on their connection and a 'screen' signal. */
  private async tellScreen(session: CallSession, share: ScreenShare | undefined) {
    await session.setScreen(share?.track ?? null);
    await this.client.sendSignal(session.callId, session.peer, { kind: 'screen', on: !!share }).catch(() => {});
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
    const mine = call.members.find((m) => m.username.toLowerCase() === this.me)?.state;
    if (call.state !== 'ended' && mine !== undefined && mine !== 'joined' && mine !== 'ringing' && current.phase !== 'ringing') {
      // I am out of a call that goes on: I transferred it (or left it from another device).
      const to = call.members.find((m) => m.state === 'joined' && m.username.toLowerCase() !== this.me && !current.call.members.some((x) => x.username === m.username && x.state === 'joined'));
      if (to) this.hooks.toast(this.hooks.text('callTransferred', { name: to.displayName }), 'info');
      this.cleanup();
      return;
    }
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
    if (call.state === 'active') this.connect();
    // On hold: nothing is sent either way (each side stops its own), resumed: again. In a warm
    // transfer the transferor and the colleague talk while the other party waits.
    const pausedFor = (peer: string) => call.heldBy !== undefined && !consulting(call, this.me, peer);
    for (const [peer, session] of this.sessions) void session.setPaused(pausedFor(peer));
    // The HTTP relay's upload is one for all partners: it pauses when it goes to nobody.
    const relayPaused = call.heldBy !== undefined && [...this.sessions.keys()].every(pausedFor);
    this.sender?.setPaused(relayPaused);
    this.screen?.setPaused(relayPaused);
  }

  /** Sessions follow the members: one for each other member who joined, none for those who left. */
  private connect() {
    const current = this.state.current;
    if (!current?.local || current.call.state !== 'active') return;
    const call = current.call;
    for (const m of call.members) {
      const peer = m.username.toLowerCase();
      if (peer === this.me) continue;
      const session = this.sessions.get(peer);
      if (m.state === 'joined' && !session) {
        const creator = call.createdBy.toLowerCase();
        const offerer = creator === this.me ? true : creator === peer ? false : this.me < peer;
        const created: CallSession = new CallSession(this.client, call.id, m.username, offerer, current.local, this.relayShare, () => this.fromSessions(created), this.timings);
        this.sessions.set(peer, created);
        const early = this.early.get(call.id) ?? [];
        this.early.set(call.id, early.filter((e) => e.from.toLowerCase() !== peer));
        for (const e of early) if (e.from.toLowerCase() === peer) void created.signal(e.signal);
        if (this.screen) void this.tellScreen(created, this.screen);
        void created.start();
      } else if (m.state !== 'joined' && session) {
        session.close();
        this.sessions.delete(peer);
      }
    }
    this.fromSessions();
  }

  private readonly relayShare = {
    acquire: () => {
      const local = this.state.current?.local;
      if (this.senderUsers++ > 0 || !local || !this.state.current) return;
      const callId = this.state.current.call.id;
      const put = async (seq: number, chunk: Blob, signal: AbortSignal) => {
        await this.client.relayFetch(`/api/v1/calls/${encodeURIComponent(callId)}/relay/${seq}`, { method: 'PUT', body: chunk, signal });
      };
      this.sender = new RelaySender(put, local, recorderType(this.state.current.call.video));
      this.sender.start();
      this.screen?.relay(true);
    },
    release: () => {
      if (--this.senderUsers > 0) return;
      this.senderUsers = 0;
      this.sender?.stop();
      this.sender = undefined;
      this.screen?.relay(false);
      // Off the relay (an upgrade to WebRTC): the camera's full size again (the relay shrank it).
      for (const t of this.state.current?.local?.getVideoTracks() ?? []) void t.applyConstraints({ width: { ideal: 640 }, height: { ideal: 480 } }).catch(() => {});
    },
  };

  /** The sessions' state into the view; a partner no path could reach is dropped (and with the last, the call). */
  private fromSessions(changed?: CallSession) {
    const current = this.state.current;
    if (!current) return;
    if (changed?.state === 'failed') {
      changed.close();
      this.sessions.delete(changed.peer.toLowerCase());
      if (this.sessions.size === 0) {
        this.hooks.toast(this.hooks.text('callEndedFailed'), 'error');
        void this.hangUp();
        return;
      }
    }
    const remotes: RemoteView[] = [...this.sessions.values()].map((s) => ({
      username: s.peer,
      displayName: current.call.members.find((m) => m.username.toLowerCase() === s.peer.toLowerCase())?.displayName ?? s.peer,
      connected: s.state === 'connected',
      path: s.path,
      stream: s.remoteStream,
      url: s.remoteUrl,
      sharing: s.peerSharing,
      screen: s.remoteScreen,
      screenUrl: s.remoteScreenUrl,
    }));
    const shown = remotes.find((r) => r.connected) ?? remotes[0];
    const phase: CallPhase = current.call.state === 'ringing' && remotes.length === 0 ? current.phase : remotes.some((r) => r.connected) ? 'connected' : 'connecting';
    this.patchCurrent({ remotes, path: shown?.path, phase });
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
    return { call, outgoing, phase, path: undefined, local: undefined, remotes: [], muted: false, cameraOff: false, sharing: false };
  }

  private cleanup() {
    for (const session of this.sessions.values()) session.close();
    this.sessions.clear();
    this.sender?.stop();
    this.sender = undefined;
    this.senderUsers = 0;
    this.screen?.stop();
    this.screen = undefined;
    const current = this.state.current;
    if (current) {
      this.early.delete(current.call.id);
      if (current.local) stopTracks(current.local);
    }
    this.set({ current: undefined });
  }
}

/** Who calls me: who rang me into a running call, else the one who started it (display name). */
export function callerName(call: Call, me: string): string {
  const by = call.members.find((m) => m.username.toLowerCase() === me.toLowerCase())?.rungBy ?? call.createdBy;
  return call.members.find((m) => m.username.toLowerCase() === by.toLowerCase())?.displayName ?? by;
}

/** A warm transfer's target has joined and `me` and `peer` are it and the transferor: they talk. */
export function consulting(call: Call, me: string, peer?: string): boolean {
  const t = call.transfer;
  if (!t?.warm || call.members.find((m) => m.username === t.to)?.state !== 'joined') return false;
  const pair = [t.from.toLowerCase(), t.to.toLowerCase()];
  return pair.includes(me) && (peer === undefined || pair.includes(peer));
}

function stopTracks(stream: MediaStream) {
  for (const t of stream.getTracks()) t.stop();
}
