/**
 * The media of one 1:1 call, once both have joined: the path is chosen automatically, in order,
 * and the one in use is told to the partner and shown to the user:
 *   1. WebRTC direct (host/STUN candidates, the ICE servers from the server);
 *   2. WebRTC relayed through TURN (a new negotiation with iceTransportPolicy 'relay');
 *   3. the HTTP relay through the Portico server (relay-media.ts).
 * A path that does not connect within a few seconds (or fails) gives way to the next. The side
 * that started the call drives the choice (it makes the offers); the other follows its 'path'
 * signals. The server's policy may skip steps: 'turn' starts at 2, 'http' goes straight to 3.
 *
 * Fast first picture, then the best path: on the HTTP relay (policy 'http', or the fallback) the
 * offerer keeps trying WebRTC in the background, with backoff, while the relay carries the media;
 * when a peer connection connects, rendering switches to it, the relay's download and my upload
 * stop, and the new path is signalled. Until then the relay goes on untouched. A call connected
 * over TURN is upgraded the same way (same schedule and backoff), on its own connection: an ICE
 * restart with all candidates allowed (setConfiguration to iceTransportPolicy 'all' on both sides,
 * then an offer with iceRestart). The TURN pair carries the media until ICE selects a direct
 * pair; if it does not within the attempt's time, the call stays on TURN (ICE with all candidates
 * keeps the relay pair) and the next attempt comes later. No second connection, no track swap.
 *
 * Screen sharing: every peer connection has a video transceiver of its own for a shared screen,
 * the last m-line of the offer (sendrecv on both sides, no track until someone shares), so
 * starting and stopping a share is replaceTrack, no renegotiation, no glare. On the HTTP relay a
 * shared screen is a second stream ('screen') of the sender's. A 'screen' signal tells the partner
 * to lay it out (or to stop).
 */
import type { CallPath, CallPolicy, CallSignal, IceServers } from '../api/types.js';
import { RelayReceiver, type RelayGet } from './relay-media.js';
import { isScreenSlot } from './screen-share.js';

export type { CallPath, CallPolicy };

/** What the session needs from the API client (a subset of PorticoClient). */
export interface CallApi {
  sendSignal(callId: string, to: string, signal: CallSignal): Promise<void>;
  iceServers(): Promise<IceServers>;
  relayFetch(path: string, init: { method: 'GET' | 'PUT'; body?: Blob; signal?: AbortSignal }): Promise<Response>;
}

export type MediaState = 'connecting' | 'connected' | 'failed' | 'closed';

/** My uploads to the HTTP relay, shared by the sessions of a call (one recording for all partners). */
export interface RelayShare {
  acquire(): void;
  release(): void;
}

export interface SessionTimings {
  /**
   * How long a WebRTC attempt may take to connect, once the partner's answer is in, before the
   * next path is tried (ms). Until the answer arrives it may take twice that: the offer and the
   * answer travel through the server, which a busy server or a slow proxy delays, and that is not
   * the path failing.
   */
  iceConnectMs: number;
  /** On the HTTP relay or TURN: the first background attempt at a better path after this (ms; policy 'http'/'turn': soon, a fallback: later), then doubling up to upgradeMaxMs. */
  upgradeFirstMs?: number;
  upgradeRetryMs?: number;
  upgradeMaxMs?: number;
}

const DEFAULT_TIMINGS: SessionTimings = { iceConnectMs: 6000 };
const UPGRADE = { upgradeFirstMs: 1500, upgradeRetryMs: 20_000, upgradeMaxMs: 120_000 };
const enc = encodeURIComponent;

export class CallSession {
  state: MediaState = 'connecting';
  /** The path in use (once connected), or being tried. */
  path: CallPath | undefined;
  /** The partner's media: a stream (WebRTC) or a URL (HTTP relay, Media Source). */
  remoteStream: MediaStream | undefined;
  remoteUrl: string | undefined;
  /** The partner shares a screen ('screen' signal), and its picture: a stream (WebRTC) or a URL (HTTP relay). */
  peerSharing = false;
  remoteScreen: MediaStream | undefined;
  remoteScreenUrl: string | undefined;
  private pc: RTCPeerConnection | undefined;
  /** The current peer connection's incoming media (published once it carries the call). */
  private pcRemote: MediaStream | undefined;
  private pcScreen: MediaStream | undefined;
  /** My shared screen's track, sent on each peer connection's screen slot. */
  private screenTrack: MediaStreamTrack | null = null;
  /** The current connection's screen slot (the offerer's from the start, the answerer's once the offer is in). */
  private screenTx: RTCRtpTransceiver | undefined;
  private relay: RelayReceiver | undefined;
  private screenRelay: RelayReceiver | undefined;
  private upgradeTimer: ReturnType<typeof setTimeout> | undefined;
  private upgradeDelay = 0;
  private ice: IceServers | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private pendingCandidates: RTCIceCandidateInit[] = [];
  private closed = false;
  /** On hold (setPaused): a new connection starts with nothing sent too. */
  private paused = false;
  /** Attempts of the offerer, in order; the current one is attempts[0]. */
  private attempts: CallPath[] = [];

  constructor(
    private readonly api: CallApi,
    readonly callId: string,
    readonly peer: string,
    readonly offerer: boolean,
    readonly local: MediaStream,
    private readonly relayShare: RelayShare,
    private readonly onChange: () => void,
    private readonly timings: SessionTimings = DEFAULT_TIMINGS,
  ) {}

  private get upgrade() {
    return { ...UPGRADE, ...this.timings };
  }

  /** Both sides: fetch ICE servers and policy; the offerer then makes the first attempt. */
  async start() {
    try {
      this.ice = await this.api.iceServers();
    } catch (error) {
      console.warn('portico: no ICE servers, trying the HTTP relay', error);
      this.ice = { iceServers: [], expiresAt: new Date().toISOString(), policy: 'http' };
    }
    if (!this.offerer || this.closed) return;
    const hasTurn = this.ice.iceServers.some((s) => s.urls.some((u) => /^turns?:/i.test(u)));
    const policy = this.ice.policy;
    this.attempts = policy === 'http' ? ['http-relay'] : policy === 'turn' ? ['turn', 'http-relay'] : hasTurn ? ['direct', 'turn', 'http-relay'] : ['direct', 'http-relay'];
    await this.attempt();
  }

  /** A signal from the partner (call.signal event). */
  async signal(signal: CallSignal) {
    if (this.closed) return;
    try {
      if (signal.kind === 'screen') {
        this.peerSharing = signal.on;
        this.followScreenRelay();
        this.onChange();
        return;
      }
      if (signal.kind === 'path') {
        if (signal.path === 'http-relay') this.useRelay();
        else if (!this.offerer) {
          // The offerer starts a new WebRTC attempt: the next offer goes to a fresh connection.
          // On the relay that is a background attempt: the relay stays the path shown until it connects.
          if (!this.relay) this.path = signal.path;
          if (this.pc && this.pc.connectionState !== 'connected') this.closePc();
          this.onChange();
        }
        return;
      }
      if (signal.kind === 'offer') {
        if (this.offerer) return;
        // An offer on a connection that carries the call: the offerer's ICE restart towards a direct path (TURN upgrade).
        if (this.pc?.connectionState === 'connected') allowDirect(this.pc);
        // The relay (if any) goes on until this connection connects (connected()).
        const pc = this.pc ?? this.newPc(this.path === 'turn' ? 'relay' : 'all');
        await pc.setRemoteDescription({ type: 'offer', sdp: signal.sdp });
        await this.flushCandidates();
        // The screen slot sends too (the offer made it sendrecv), with my screen if I share one.
        const slot = pc.getTransceivers().find((t) => isScreenSlot(pc, t));
        if (slot && pc === this.pc) {
          this.screenTx = slot;
          slot.direction = 'sendrecv';
          await slot.sender.replaceTrack(this.screenTrack);
        }
        await pc.setLocalDescription(await pc.createAnswer());
        await this.api.sendSignal(this.callId, this.peer, { kind: 'answer', sdp: pc.localDescription!.sdp });
      } else if (signal.kind === 'answer') {
        const pc = this.pc;
        if (!this.offerer || !pc || pc.signalingState !== 'have-local-offer') return;
        await pc.setRemoteDescription({ type: 'answer', sdp: signal.sdp });
        await this.flushCandidates();
        // Both descriptions are in: ICE gets its time from now.
        if (this.pc === pc && this.state !== 'connected') {
          clearTimeout(this.timer);
          this.timer = setTimeout(() => this.next(pc), this.timings.iceConnectMs);
        }
      } else if (signal.kind === 'candidate') {
        const c = signal.candidate;
        if (!c) return;
        const init: RTCIceCandidateInit = { candidate: c.candidate, sdpMid: c.sdpMid ?? null, sdpMLineIndex: c.sdpMLineIndex ?? null, usernameFragment: c.usernameFragment ?? null };
        if (!this.pc?.remoteDescription) this.pendingCandidates.push(init);
        else await this.pc.addIceCandidate(init).catch(() => {}); // a candidate of an earlier attempt
      }
    } catch (error) {
      console.warn('portico: call signal failed', signal.kind, error);
    }
  }

  /** Replaces the outgoing track of a kind (another camera or microphone; not the screen slot). */
  async replaceTrack(track: MediaStreamTrack) {
    if (this.paused) return; // on hold: resume takes the local stream's tracks as they are then
    const pc = this.pc;
    const tx = pc?.getTransceivers().find((t) => t.sender.track?.kind === track.kind && t !== this.screenTx);
    await tx?.sender.replaceTrack(track);
  }

  /** My shared screen (null: stopped) on the screen slot; the partner is told by the phone's 'screen' signal. */
  async setScreen(track: MediaStreamTrack | null) {
    this.screenTrack = track;
    if (this.paused) return; // on hold: it goes out on resume
    await this.screenTx?.sender.replaceTrack(track).catch((error: unknown) => console.warn('portico: screen track', error));
  }

  /**
   * On hold (issue 18): my tracks stop going out (no RTP at all, so the partner's frames stop)
   * and come back on resume (the shared screen to its own slot). On the HTTP relay the manager
   * pauses the upload (RelaySender.setPaused).
   */
  async setPaused(paused: boolean) {
    this.paused = paused;
    for (const t of this.pc?.getTransceivers() ?? []) {
      const kind = t.receiver.track.kind;
      // The screen's slot gets the shared screen back (or stays empty), the others the microphone and camera.
      const live = t === this.screenTx ? this.screenTrack : ((kind === 'audio' ? this.local.getAudioTracks() : this.local.getVideoTracks())[0] ?? null);
      const track = paused ? null : live;
      if (t.sender.track !== track) await t.sender.replaceTrack(track).catch(() => {});
    }
  }

  /** The selected ICE candidate pair's types (for the path shown and for tests). */
  async candidateTypes(): Promise<{ local: string; remote: string } | undefined> {
    const pc = this.pc;
    if (!pc) return undefined;
    const stats = await pc.getStats();
    let pairId: string | undefined;
    stats.forEach((s) => {
      if (s.type === 'transport' && s.selectedCandidatePairId) pairId = s.selectedCandidatePairId;
    });
    const pair = pairId ? stats.get(pairId) : undefined;
    if (!pair) return undefined;
    return { local: stats.get(pair.localCandidateId)?.candidateType, remote: stats.get(pair.remoteCandidateId)?.candidateType };
  }

  close() {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    clearTimeout(this.upgradeTimer);
    this.closePc();
    this.closeRelay();
    this.state = 'closed';
  }

  /** The element showing the partner (the HTTP relay keeps its playback close to live). */
  attachRemote(element: HTMLMediaElement | undefined) {
    this.relay?.attach(element);
  }

  /** The element showing the partner's shared screen (HTTP relay). */
  attachScreen(element: HTMLMediaElement | undefined) {
    this.screenRelay?.attach(element);
  }

  // ---------- the offerer's attempts ----------

  private async attempt() {
    clearTimeout(this.timer);
    const path = this.attempts[0];
    if (this.closed) return;
    if (!path) {
      this.state = 'failed';
      this.onChange();
      return;
    }
    this.path = path;
    this.state = 'connecting';
    this.onChange();
    await this.api.sendSignal(this.callId, this.peer, { kind: 'path', path }).catch(() => {});
    if (path === 'http-relay') {
      this.useRelay();
      this.upgradeDelay = this.ice?.policy === 'http' ? this.upgrade.upgradeFirstMs : this.upgrade.upgradeRetryMs;
      this.scheduleUpgrade();
      return;
    }
    this.closePc();
    const pc = this.newPc(path === 'turn' ? 'relay' : 'all');
    this.timer = setTimeout(() => this.next(pc), 2 * this.timings.iceConnectMs);
    try {
      await pc.setLocalDescription(await pc.createOffer());
      await this.api.sendSignal(this.callId, this.peer, { kind: 'offer', sdp: pc.localDescription!.sdp });
    } catch (error) {
      console.warn('portico: offer failed', error);
      this.next(pc);
    }
  }

  /** The attempt on `pc` did not work: the next path. */
  private next(pc: RTCPeerConnection) {
    if (this.relay) return this.upgradeFailed(pc);
    if (this.closed || pc !== this.pc || this.state === 'connected') return;
    this.attempts.shift();
    void this.attempt();
  }

  private newPc(policy: RTCIceTransportPolicy): RTCPeerConnection {
    const pc = new RTCPeerConnection({ iceServers: this.ice?.iceServers ?? [], iceTransportPolicy: policy });
    this.pc = pc;
    this.pendingCandidates = [];
    // Audio first, then the camera, then (the offerer) the screen slot: the screen is the last m-line.
    for (const track of [...this.local.getAudioTracks(), ...this.local.getVideoTracks()]) pc.addTrack(track, this.local);
    this.screenTx = this.offerer ? pc.addTransceiver(this.screenTrack ?? 'video', { direction: 'sendrecv' }) : undefined;
    if (this.paused) void this.setPaused(true);
    const remote = (this.pcRemote = new MediaStream());
    const screen = (this.pcScreen = new MediaStream());
    pc.ontrack = (e) => {
      (isScreenSlot(pc, e.transceiver) ? screen : remote).addTrack(e.track);
      if (pc === this.pc) this.publish();
    };
    pc.onicecandidate = (e) => {
      const c = e.candidate;
      void this.api
        .sendSignal(this.callId, this.peer, {
          kind: 'candidate',
          candidate: c ? { candidate: c.candidate, sdpMid: c.sdpMid, sdpMLineIndex: c.sdpMLineIndex, usernameFragment: c.usernameFragment } : null,
        })
        .catch(() => {});
    };
    pc.onconnectionstatechange = () => {
      if (pc !== this.pc) return;
      if (pc.connectionState === 'connected') void this.connected(pc);
      else if (pc.connectionState === 'failed') {
        if (this.relay) {
          if (this.offerer) this.upgradeFailed(pc);
        } else if (this.offerer) {
          this.state = 'connecting';
          this.next(pc);
        }
      }
    };
    return pc;
  }

  private async connected(pc: RTCPeerConnection) {
    clearTimeout(this.timer);
    clearTimeout(this.upgradeTimer);
    const types = await this.candidateTypes();
    if (pc !== this.pc || this.closed) return;
    const path: CallPath = types && (types.local === 'relay' || types.remote === 'relay') ? 'turn' : 'direct';
    // An upgrade from the HTTP relay: the connection carries the call now; the relay stops.
    const fromRelay = !!this.relay;
    this.closeRelay();
    this.path = path;
    this.state = 'connected';
    this.publish();
    if (this.offerer) await this.api.sendSignal(this.callId, this.peer, { kind: 'path', path }).catch(() => {});
    // On TURN: a direct path is tried in the background, as from the relay (policy 'turn': soon; a fallback or the relay's upgrade: later).
    if (path === 'turn') {
      this.upgradeDelay = this.ice?.policy === 'turn' && !fromRelay ? this.upgrade.upgradeFirstMs : this.upgrade.upgradeRetryMs;
      this.scheduleUpgrade();
    }
  }

  private async flushCandidates() {
    const pc = this.pc;
    if (!pc) return;
    for (const c of this.pendingCandidates.splice(0)) await pc.addIceCandidate(c).catch(() => {});
  }

  private closePc() {
    if (!this.pc) return;
    this.pc.onconnectionstatechange = null;
    this.pc.onicecandidate = null;
    this.pc.ontrack = null;
    this.pc.close();
    this.pc = undefined;
    this.screenTx = undefined;
    this.pcRemote = this.pcScreen = undefined;
    if (!this.relay) this.remoteStream = this.remoteScreen = undefined;
  }

  /** The current connection's media into the view (not while the relay carries the call). */
  private publish() {
    if (this.relay) return;
    this.remoteStream = this.pcRemote?.getTracks().length ? this.pcRemote : undefined;
    this.remoteScreen = this.pcScreen?.getTracks().length ? this.pcScreen : undefined;
    this.remoteUrl = this.remoteScreenUrl = undefined;
    this.onChange();
  }

  // ---------- upgrading from the HTTP relay, or from TURN ----------

  /** The call is carried by a path a better one may replace: the HTTP relay, or a connection over TURN. */
  private get upgradable() {
    return !!this.relay || (this.path === 'turn' && this.state === 'connected' && this.pc?.connectionState === 'connected');
  }

  private scheduleUpgrade() {
    clearTimeout(this.upgradeTimer);
    if (this.closed || !this.upgradable || !this.offerer) return;
    this.upgradeTimer = setTimeout(() => void this.tryUpgrade(), this.upgradeDelay);
  }

  /** A WebRTC attempt in the background (all candidates: direct, else TURN); the relay (or the TURN pair) goes on meanwhile. */
  private async tryUpgrade() {
    if (this.closed || !this.upgradable) return;
    if (!this.relay) return this.restartDirect(this.pc!);
    // Tells the partner to drop a connection left from an earlier attempt (its path shown stays).
    await this.api.sendSignal(this.callId, this.peer, { kind: 'path', path: 'direct' }).catch(() => {});
    if (this.closed || !this.relay) return;
    this.closePc();
    const pc = this.newPc('all');
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.upgradeFailed(pc), 2 * this.timings.iceConnectMs);
    try {
      await pc.setLocalDescription(await pc.createOffer());
      await this.api.sendSignal(this.callId, this.peer, { kind: 'offer', sdp: pc.localDescription!.sdp });
    } catch (error) {
      console.warn('portico: background offer failed', error);
      this.upgradeFailed(pc);
    }
  }

  /**
   * On TURN: an ICE restart of the connection carrying the call with all candidates allowed (the
   * partner allows them too when the offer comes: allowDirect). The TURN pair carries the media
   * meanwhile; once ICE selects a direct pair, the path is 'direct' (shown and signalled).
   */
  private async restartDirect(pc: RTCPeerConnection) {
    allowDirect(pc);
    clearTimeout(this.timer);
    const deadline = Date.now() + 2 * this.timings.iceConnectMs;
    try {
      await pc.setLocalDescription(await pc.createOffer({ iceRestart: true }));
      await this.api.sendSignal(this.callId, this.peer, { kind: 'offer', sdp: pc.localDescription!.sdp });
    } catch (error) {
      console.warn('portico: background ICE restart failed', error);
      return this.upgradeFailed(pc);
    }
    while (!this.closed && pc === this.pc && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      const types = await this.candidateTypes().catch(() => undefined);
      if (pc !== this.pc || this.closed || this.path !== 'turn') return;
      if (types && types.local !== 'relay' && types.remote !== 'relay' && pc.connectionState === 'connected') {
        this.path = 'direct';
        this.onChange();
        await this.api.sendSignal(this.callId, this.peer, { kind: 'path', path: 'direct' }).catch(() => {});
        return;
      }
    }
    this.upgradeFailed(pc);
  }

  private upgradeFailed(pc: RTCPeerConnection) {
    if (this.closed || pc !== this.pc || !this.upgradable) return;
    clearTimeout(this.timer);
    // From the relay the attempt's connection goes; on TURN it is the one carrying the call (its ICE keeps the relay pair).
    if (this.relay) this.closePc();
    this.upgradeDelay = Math.min(Math.max(this.upgradeDelay, 1000) * 2, this.upgrade.upgradeMaxMs);
    this.scheduleUpgrade();
  }

  // ---------- the HTTP relay ----------

  private useRelay() {
    if (this.relay) return;
    clearTimeout(this.timer);
    this.closePc();
    this.path = 'http-relay';
    this.state = 'connecting';
    const relay = (this.relay = new RelayReceiver(
      this.download('media'),
      (error) => console.warn('portico: relay', error),
      () => {
        if (this.state !== 'connected' && !this.closed) {
          this.state = 'connected';
          this.onChange();
        }
      },
      (url) => {
        this.remoteUrl = url;
        this.onChange();
      },
    ));
    this.relayShare.acquire();
    this.remoteUrl = relay.start();
    this.remoteStream = this.remoteScreen = undefined;
    this.followScreenRelay();
    this.onChange();
  }

  private closeRelay() {
    if (!this.relay) return;
    this.relay.stop();
    this.relay = undefined;
    this.relayShare.release();
    this.remoteUrl = undefined;
    this.followScreenRelay();
  }

  /** The partner's screen stream on the relay: downloaded while it shares and the relay carries the call. */
  private followScreenRelay() {
    const want = !!this.relay && this.peerSharing && !this.closed;
    if (want && !this.screenRelay) {
      const receiver = (this.screenRelay = new RelayReceiver(this.download('screen'), (error) => console.warn('portico: relay screen', error), undefined, (url) => {
        this.remoteScreenUrl = url;
        this.onChange();
      }));
      this.remoteScreenUrl = receiver.start();
    } else if (!want && this.screenRelay) {
      this.screenRelay.stop();
      this.screenRelay = undefined;
      this.remoteScreenUrl = undefined;
    }
  }

  /** The partner's chunks (of one stream) from the relay. */
  private download(stream: 'media' | 'screen'): RelayGet {
    const path = `/api/v1/calls/${enc(this.callId)}/relay/${enc(this.peer)}`;
    return async (after, signal) => {
      const res = await this.api.relayFetch(`${path}?after=${after}&wait=15${stream === 'screen' ? '&stream=screen' : ''}`, { method: 'GET', signal });
      if (res.status === 204) return undefined;
      return {
        seq: Number(res.headers.get('x-relay-seq')),
        skipped: Number(res.headers.get('x-relay-skipped') ?? 0),
        type: res.headers.get('content-type') ?? 'video/webm',
        data: await res.arrayBuffer(),
      };
    };
  }

  /** Relay numbers for the panel's diagnostics and tests. */
  get relayStats() {
    return this.relay?.stats;
  }
}

/** Lets a connection's next ICE gathering use every candidate, not only TURN's (an upgrade from TURN). */
function allowDirect(pc: RTCPeerConnection) {
  const config = pc.getConfiguration();
  if (config.iceTransportPolicy !== 'all') pc.setConfiguration({ ...config, iceTransportPolicy: 'all' });
}
