/**
 * Screen sharing during a call: my shared screen or window (getDisplayMedia; in the desktop shell
 * the main process picks the source, see electron/main/display-media.ts) and what carries it:
 *   - WebRTC (direct, TURN): each peer connection's screen slot, the last video m-line of the
 *     offer (session.ts); sharing is replaceTrack on it, no renegotiation;
 *   - the HTTP relay: a second recording of my own, uploaded as the relay stream 'screen'
 *     (sharper and slower than the camera's: text must stay readable), while any partner uses
 *     the relay.
 * The partners are told with a 'screen' signal and lay the screen out large. No DOM here.
 */
import { RelaySender, type RelayPut, type SenderOptions } from './relay-media.js';

/**
 * The relay's screen recording: up to 720p, more bits than the camera's 300 kbit/s. No frame-rate
 * constraint: on a captured surface it makes Chromium's recorder write chunks of a single frame.
 * Recordings of 2.5 s, not the camera's 1 s: starting a 720p encoder costs its first frames, up
 * to a second on a busy machine (measured with 2 cores loaded: 1 s recordings held 0.3–0.5 s of
 * screen, 2.5 s ones about all of it). A screen bears the extra delay better than a face.
 */
export const SCREEN_RELAY: SenderOptions = { video: { width: { max: 1280 }, height: { max: 720 } }, videoBitsPerSecond: 600_000, chunkMs: 2500 };
/** What the share asks the browser for: a screen or window, no audio, a frame rate fit for documents. */
export const DISPLAY_CONSTRAINTS: DisplayMediaStreamOptions = { video: { frameRate: { ideal: 15, max: 30 } }, audio: false };

/** The mids of an SDP's m-lines, in order. */
export function mids(sdp: string): string[] {
  return [...sdp.matchAll(/^a=mid:(\S+)/gm)].map((m) => m[1]!);
}

/** Whether a transceiver is the connection's screen slot: the offer's last m-line (a video one). */
export function isScreenSlot(pc: RTCPeerConnection, t: RTCRtpTransceiver): boolean {
  if (t.mid === null || t.receiver.track.kind !== 'video') return false;
  const sdp = pc.remoteDescription?.sdp ?? pc.localDescription?.sdp;
  return !!sdp && mids(sdp).at(-1) === t.mid;
}

function recorderTypeForScreen(): string {
  const candidates = ['video/webm;codecs=vp8', 'video/webm;codecs=vp9', 'video/webm'];
  return candidates.find((t) => typeof MediaRecorder !== 'undefined' && MediaRecorder.isTypeSupported(t)) ?? 'video/webm';
}

/** My screen share in a call: the stream, and its relay upload while the relay is in use. */
export class ScreenShare {
  private sender: RelaySender | undefined;

  constructor(
    readonly stream: MediaStream,
    private readonly put: RelayPut,
  ) {}

  get track(): MediaStreamTrack | null {
    return this.stream.getVideoTracks()[0] ?? null;
  }

  /** Uploads to the relay while `on` (a partner uses the relay), else not. */
  relay(on: boolean) {
    if (on && !this.sender) {
      this.sender = new RelaySender(this.put, this.stream, recorderTypeForScreen(), (e) => console.warn('portico: relay screen', e), SCREEN_RELAY);
      this.sender.start();
    } else if (!on && this.sender) {
      this.sender.stop();
      this.sender = undefined;
    }
  }

  /** On hold: the screen's relay upload pauses with the camera's. */
  setPaused(paused: boolean) {
    this.sender?.setPaused(paused);
  }

  stop() {
    this.relay(false);
    for (const t of this.stream.getTracks()) t.stop();
  }
}

/** Asks for a screen or window to share (the browser's or the desktop shell's picker). */
export function pickScreen(getDisplay: (c: DisplayMediaStreamOptions) => Promise<MediaStream> = (c) => navigator.mediaDevices.getDisplayMedia(c)): Promise<MediaStream> {
  return getDisplay(DISPLAY_CONSTRAINTS);
}
