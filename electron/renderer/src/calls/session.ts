/**
 * The media of one 1:1 call, once both have joined: the path is chosen automatically, in order,
 * and the one in use is told to the partner and shown to the user:
 *   1. WebRTC direct (host/STUN candidates, the ICE servers from the server);
 *   2. WebRTC relayed through TURN (a new negotiation with iceTransportPolicy 'relay');
 *   3. the HTTP relay through the Portico server (relay-media.ts).
 * A path that does not connect within a few seconds (or fails) gives way to the next. The side
 * that started the call drives the choice (it makes the offers); the other follows its 'path'
 * signals. The server's policy may skip steps: 'turn' starts at 2, 'http' goes straight to 3.
 */
import type { CallPath, CallPolicy, CallSignal, IceServers } from '../api/types.js';
import { RelayReceiver, type RelayGet } from './relay-media.js';

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
}

const DEFAULT_TIMINGS: SessionTimings = { iceConnectMs: 6000 };
const enc = encodeURIComponent;

export class CallSession {
  state: MediaState = 'connecting';
  /** The path in use (once connected), or being tried. */
  path: CallPath | undefined;
  /** The partner's media: a stream (WebRTC) or a URL (HTTP relay, Media Source). */
  remoteStream: MediaStream | undefined;
  remoteUrl: string | undefined;
  private pc: RTCPeerConnection | undefined;
  private relay: RelayReceiver | undefined;
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
      if (signal.kind === 'path') {
        if (signal.path === 'http-relay') this.useRelay();
        else if (!this.offerer) {
          // The offerer starts a new WebRTC attempt: the next offer goes to a fresh connection.
          this.path = signal.path;
          if (this.pc && this.pc.connectionState !== 'connected') this.closePc();
          this.onChange();
        }
        return;
      }
      if (signal.kind === 'offer') {
        if (this.offerer) return;
        this.closeRelay();
        const pc = this.pc ?? this.newPc(this.path === 'turn' ? 'relay' : 'all');
        await pc.setRemoteDescription({ type: 'offer', sdp: signal.sdp });
        await this.flushCandidates();
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

  /** Replaces the outgoing track of a kind (another camera or microphone). */
  async replaceTrack(track: MediaStreamTrack) {
    const sender = this.pc?.getSenders().find((s) => s.track?.kind === track.kind);
    await sender?.replaceTrack(track);
  }

  /**
   * On hold (issue 18): my tracks stop going out (no RTP at all, so the partner's frames stop)
   * and come back on resume; the HTTP relay's recording is not paused.
   */
  async setPaused(paused: boolean) {
    this.paused = paused;
    for (const t of this.pc?.getTransceivers() ?? []) {
      const kind = t.receiver.track.kind;
      const track = paused ? null : (kind === 'audio' ? this.local.getAudioTracks() : this.local.getVideoTracks())[0] ?? null;
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
    this.closePc();
    this.closeRelay();
    this.state = 'closed';
  }

  /** The element showing the partner (the HTTP relay keeps its playback close to live). */
  attachRemote(element: HTMLMediaElement | undefined) {
    this.relay?.attach(element);
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
    if (this.closed || pc !== this.pc || this.state === 'connected') return;
    this.attempts.shift();
    void this.attempt();
  }

  private newPc(policy: RTCIceTransportPolicy): RTCPeerConnection {
    const pc = new RTCPeerConnection({ iceServers: this.ice?.iceServers ?? [], iceTransportPolicy: policy });
    this.pc = pc;
    this.pendingCandidates = [];
    for (const track of this.local.getTracks()) pc.addTrack(track, this.local);
    if (this.paused) void this.setPaused(true);
    const remote = new MediaStream();
    pc.ontrack = (e) => {
      remote.addTrack(e.track);
      this.remoteStream = remote;
      this.remoteUrl = undefined;
      this.onChange();
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
        if (this.offerer) {
          this.state = 'connecting';
          this.next(pc);
        }
      }
    };
    return pc;
  }

  private async connected(pc: RTCPeerConnection) {
    clearTimeout(this.timer);
    const types = await this.candidateTypes();
    if (pc !== this.pc || this.closed) return;
    const path: CallPath = types && (types.local === 'relay' || types.remote === 'relay') ? 'turn' : 'direct';
    this.path = path;
    this.state = 'connected';
    this.onChange();
    if (this.offerer) await this.api.sendSignal(this.callId, this.peer, { kind: 'path', path }).catch(() => {});
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
    this.remoteStream = undefined;
  }

  // ---------- the HTTP relay ----------

  private useRelay() {
    if (this.relay) return;
    clearTimeout(this.timer);
    this.closePc();
    this.path = 'http-relay';
    this.state = 'connecting';
    const relay = (this.relay = new RelayReceiver(
      this.download(),
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
    this.remoteStream = undefined;
    this.onChange();
  }

  private closeRelay() {
    if (!this.relay) return;
    this.relay.stop();
    this.relay = undefined;
    this.relayShare.release();
    this.remoteUrl = undefined;
  }

  /** The partner's chunks from the relay. */
  private download(): RelayGet {
    const path = `/api/v1/calls/${enc(this.callId)}/relay/${enc(this.peer)}`;
    return async (after, signal) => {
      const res = await this.api.relayFetch(`${path}?after=${after}&wait=15`, { method: 'GET', signal });
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
