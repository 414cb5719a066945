/**
 * The HTTP relay's media, for when no ICE path works: the camera and microphone recorded in
 * short self-contained WebM chunks, PUT to the Portico server; the partner's chunks long-polled
 * and played through Media Source Extensions.
 *
 * Why a new MediaRecorder every ~1 s: Chromium's recorder writes one WebM stream whose later
 * chunks are not decodable alone (no header, clusters cut anywhere). A recording of its own per
 * chunk starts with its header and a key frame, so the server may drop chunks (a receiver that
 * fell behind gets the newest) and a late joiner starts at any chunk. The next recorder starts
 * before the previous one stops, so nothing is lost in between. The player appends the chunks
 * in MSE 'sequence' mode (timestamps follow on, skipped chunks leave no gap), keeps only a few
 * seconds buffered, and jumps forward when playback lags: delay and memory stay bounded.
 *
 * A recording is cut after a chunk's length of *media* (1 s; a screen's 2.5 s, screen-share.ts),
 * not of clock: each new recorder has its own encoder, which on a busy machine takes a while to
 * deliver its first frame. Cut by the clock, recordings then held a fraction of a second of video
 * or none at all (a bare header), and with a screen's encoder started every second as well they
 * fell further and further behind until every recording came out empty (camera's and screen's
 * alike). Cut once media has flowed, a busy machine gets longer chunks instead, and a recording
 * without media is never sent: a bare header breaks the receiving MediaSource.
 *
 * Connections: one upload (RelaySender: my chunks, whoever reads them) and one download per
 * partner (RelayReceiver) in flight at a time: two per side in a 1:1 call.
 */

export const CHUNK_MS = 1000;
/** A recording's data is delivered (and looked at) this often (ms): to see when its media begins. */
const SLICE_MS = 250;
/** Media buffered ahead of the playhead when playback (re)starts or jumps (seconds). */
const TARGET_AHEAD_S = 1.5;
/** More than this buffered ahead: jump forward to TARGET_AHEAD_S (seconds). */
const MAX_AHEAD_S = 2.7;
/** Media kept in the player behind the playhead (seconds). */
const KEEP_BEHIND_S = 6;
/** Least time between two rebuilds of a player (ms): a new player that fails at once is not retried in a tight loop. */
const REBUILD_GAP_MS = 1000;

/** Uploads one chunk of mine. */
export type RelayPut = (seq: number, chunk: Blob, signal: AbortSignal) => Promise<void>;
/** The next chunk of a partner's after `after` (-1: the newest), or undefined when none came in time. */
export type RelayGet = (after: number, signal: AbortSignal) => Promise<{ seq: number; skipped: number; type: string; data: ArrayBuffer } | undefined>;

export function recorderType(video: boolean): string {
  const candidates = video ? ['video/webm;codecs=vp8,opus', 'video/webm;codecs=vp9,opus', 'video/webm'] : ['audio/webm;codecs=opus', 'audio/webm'];
  return candidates.find((t) => typeof MediaRecorder !== 'undefined' && MediaRecorder.isTypeSupported(t)) ?? candidates.at(-1)!;
}

export interface SenderStats {
  sent: number;
  sentBytes: number;
  /** Chunks recorded but replaced by a newer one before the upload was free. */
  dropped: number;
  /** Recordings that ended without any media (a bare header): not sent. */
  empty: number;
}

export interface ReceiverStats {
  received: number;
  /** Chunks the server skipped for us because we fell behind. */
  skipped: number;
  /** Forward jumps of the player because playback lagged. */
  jumps: number;
  /** Chunks without media (a bare header, from a sender before media-cut recordings): not played. */
  empty: number;
  /** New players after a decode error. */
  rebuilds: number;
}

/** The ID of a WebM Cluster element: where a recording's media (its blocks) begins. */
const CLUSTER_ID = [0x1f, 0x43, 0xb6, 0x75] as const;

/** Whether WebM bytes hold the start of a Cluster, i.e. media and not just a header. */
export function hasCluster(bytes: Uint8Array): boolean {
  for (let i = bytes.indexOf(CLUSTER_ID[0]); i >= 0 && i + 3 < bytes.length; i = bytes.indexOf(CLUSTER_ID[0], i + 1)) {
    if (bytes[i + 1] === CLUSTER_ID[1] && bytes[i + 2] === CLUSTER_ID[2] && bytes[i + 3] === CLUSTER_ID[3]) return true;
  }
  return false;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });

/** How a sender records: the camera's defaults, or a shared screen's (sharper, fewer frames). */
export interface SenderOptions {
  /** Constraints applied to the video tracks before the first recording. */
  video: MediaTrackConstraints;
  videoBitsPerSecond: number;
  /** Media per recording (ms; CHUNK_MS when not given): each recording starts an encoder, which costs its first frames. */
  chunkMs?: number;
}
const CAMERA: SenderOptions = { video: { width: { ideal: 320 }, height: { ideal: 240 }, frameRate: { ideal: 15 } }, videoBitsPerSecond: 300_000 };

/** Records my camera and microphone (or a shared screen) in self-contained chunks and uploads them, newest first, until stop(). */
export class RelaySender {
  readonly stats: SenderStats = { sent: 0, sentBytes: 0, dropped: 0, empty: 0 };
  private readonly stop$ = new AbortController();
  private recorder: MediaRecorder | undefined;
  /** The newest recorded chunk waiting for the upload; an older one waiting is dropped. */
  private waiting: Blob | undefined;
  private wake: (() => void) | undefined;
  private seq = 0;
  /** On hold: what is recorded meanwhile is dropped, nothing goes out. */
  private paused = false;

  constructor(
    private readonly put: RelayPut,
    private readonly local: MediaStream,
    private readonly mime: string,
    private readonly onError: (error: unknown) => void = (e) => console.warn('portico: relay', e),
    private readonly options: SenderOptions = CAMERA,
  ) {}

  start() {
    // A smaller picture for this path: it goes through proxies as plain requests (~300 kbit/s),
    // and MediaRecorder's encoder keeps up on a busy machine.
    // Set before the first recording: a size change inside one can upset the receiving decoder.
    const smaller = this.local.getVideoTracks().map((track) => track.applyConstraints(this.options.video));
    void Promise.allSettled(smaller).then(() => {
      if (this.stop$.signal.aborted) return;
      this.record();
      void this.uploadLoop();
    });
  }

  /** On hold (paused) nothing is uploaded, so the partner's picture and sound stop; resumed, the next chunk goes. */
  setPaused(paused: boolean) {
    this.paused = paused;
    if (paused) this.waiting = undefined;
  }

  stop() {
    this.stop$.abort();
    this.wake?.();
    if (this.recorder?.state === 'recording') this.recorder.stop();
    this.recorder = undefined;
    this.waiting = undefined;
  }

  /**
   * Starts a recording, then stops the one before it (the two overlap: no gap). Its data comes
   * every SLICE_MS; once it holds a chunk's length of media (options.chunkMs) the next one
   * starts. A recording that ends by itself (a device change mid-recording is an error) is
   * followed by a new one too.
   */
  private record() {
    if (this.stop$.signal.aborted) return;
    let recorder: MediaRecorder;
    try {
      recorder = new MediaRecorder(this.local, { mimeType: this.mime, videoBitsPerSecond: this.options.videoBitsPerSecond, audioBitsPerSecond: 32_000 });
    } catch (error) {
      this.onError(error);
      return;
    }
    const parts: Blob[] = [];
    let mediaSince: number | undefined;
    let tail = new Uint8Array(0); // the last bytes looked at: an ID may straddle two slices
    let looked = Promise.resolve(); // slices are looked at in order
    recorder.ondataavailable = (e) => {
      if (!e.data.size) return;
      parts.push(e.data);
      const data = e.data;
      looked = looked.then(async () => {
        if (mediaSince === undefined) {
          const bytes = new Uint8Array(await data.arrayBuffer());
          const joined = new Uint8Array(tail.length + bytes.length);
          joined.set(tail);
          joined.set(bytes, tail.length);
          if (hasCluster(joined)) mediaSince = performance.now();
          tail = joined.slice(-3);
        }
        if (recorder === this.recorder && mediaSince !== undefined && performance.now() - mediaSince >= (this.options.chunkMs ?? CHUNK_MS)) this.record();
      });
    };
    recorder.onstop = () => {
      void looked.then(() => {
        if (this.stop$.signal.aborted) return;
        if (mediaSince === undefined) this.stats.empty++;
        else {
          if (this.waiting) this.stats.dropped++;
          this.waiting = new Blob(parts, { type: this.mime });
          this.wake?.();
        }
        // Ended by itself: a new recording in a moment (not at once: a track that ended would spin).
        if (recorder === this.recorder) setTimeout(() => recorder === this.recorder && this.record(), CHUNK_MS);
      });
    };
    // A device change mid-recording ends that recording with an error; the next one goes on (onstop).
    recorder.onerror = () => {};
    recorder.start(SLICE_MS);
    const previous = this.recorder;
    this.recorder = recorder;
    if (previous?.state === 'recording') previous.stop();
  }

  private async uploadLoop() {
    const signal = this.stop$.signal;
    while (!signal.aborted) {
      const chunk = this.waiting;
      if (!chunk) {
        await new Promise<void>((resolve) => (this.wake = resolve));
        continue;
      }
      this.waiting = undefined;
      if (this.paused) continue;
      try {
        await this.put(this.seq, chunk, signal);
        this.seq++;
        this.stats.sent++;
        this.stats.sentBytes += chunk.size;
      } catch (error) {
        if (signal.aborted) return;
        this.onError(error);
        this.seq++; // the server may have kept it: never reuse a number
        await sleep(500, signal);
      }
    }
  }
}

/** Downloads one partner's chunks and plays them through Media Source Extensions, until stop(). */
export class RelayReceiver {
  readonly stats: ReceiverStats = { received: 0, skipped: 0, jumps: 0, empty: 0, rebuilds: 0 };
  private readonly stop$ = new AbortController();
  private mediaSource: MediaSource | undefined;
  private sourceBuffer: SourceBuffer | undefined;
  private readonly appendQueue: ArrayBuffer[] = [];
  private url: string | undefined;
  private playing = false;
  private element: HTMLMediaElement | undefined;

  private type = '';
  private started = false;
  private lastRebuild = -Infinity;
  private rebuildTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly get: RelayGet,
    private readonly onError: (error: unknown) => void = (e) => console.warn('portico: relay', e),
    /** Called for every chunk of the partner's that arrives. */
    private readonly onReceive: () => void = () => {},
    /** The player was rebuilt after a decode error: the element's new src. */
    private readonly onUrl: (url: string) => void = () => {},
  ) {}

  /** Starts downloading; the returned URL is the partner's media for a <video> element's src. */
  start(): string {
    return this.open();
  }

  /** A fresh MediaSource (and URL); the download loop starts with the first one. */
  private open(): string {
    const ms = (this.mediaSource = new MediaSource());
    this.sourceBuffer = undefined;
    this.url = URL.createObjectURL(ms);
    ms.addEventListener(
      'sourceopen',
      () => {
        if (!this.started) {
          this.started = true;
          void this.downloadLoop();
        }
        this.pump();
      },
      { once: true },
    );
    return this.url;
  }

  /**
   * A chunk the decoder refused (a corrupt recording) closes the MediaSource for good. Every
   * chunk stands alone, so the cure is a new player that goes on with the next one. Only the
   * element's 'error' event rebuilds (one per failure), at most once per REBUILD_GAP_MS.
   */
  private rebuild(error: unknown) {
    if (this.stop$.signal.aborted || this.rebuildTimer || this.mediaSource?.readyState === 'open') return;
    this.onError(error);
    const wait = this.lastRebuild + REBUILD_GAP_MS - performance.now();
    if (wait > 0) this.rebuildTimer = setTimeout(() => this.reopen(), wait);
    else this.reopen();
  }

  private reopen() {
    this.rebuildTimer = undefined;
    if (this.stop$.signal.aborted) return;
    this.lastRebuild = performance.now();
    this.stats.rebuilds++;
    const old = this.url;
    const url = this.open();
    if (old) URL.revokeObjectURL(old);
    this.playing = false;
    if (this.element) {
      this.element.src = url;
      this.element.pause();
    }
    this.onUrl(url);
  }

  private readonly onElementError = () => this.rebuild(this.element?.error ?? new Error('media error'));

  /** The element playing start()'s URL: the receiver decides when it plays (see afterAppend). */
  attach(element: HTMLMediaElement | undefined) {
    if (element === this.element) return;
    this.element?.removeEventListener('waiting', this.onWaiting);
    this.element?.removeEventListener('error', this.onElementError);
    this.element = element;
    this.playing = false;
    if (!element) return;
    element.autoplay = false;
    element.pause();
    element.addEventListener('waiting', this.onWaiting);
    element.addEventListener('error', this.onElementError);
    this.afterAppend();
  }

  stop() {
    this.stop$.abort();
    clearTimeout(this.rebuildTimer);
    this.element?.removeEventListener('waiting', this.onWaiting);
    this.element?.removeEventListener('error', this.onElementError);
    this.element = undefined;
    this.appendQueue.length = 0;
    try {
      if (this.mediaSource?.readyState === 'open') this.mediaSource.endOfStream();
    } catch {
      /* already ended */
    }
    if (this.url) URL.revokeObjectURL(this.url);
  }

  private async downloadLoop() {
    const signal = this.stop$.signal;
    let after = -1;
    while (!signal.aborted) {
      try {
        const got = await this.get(after, signal);
        if (!got) continue;
        after = got.seq;
        this.stats.received++;
        this.stats.skipped += got.skipped;
        this.append(got.type, got.data);
        this.onReceive();
      } catch (error) {
        if (signal.aborted) return;
        this.onError(error);
        await sleep(1000, signal);
      }
    }
  }

  private append(type: string, data: ArrayBuffer) {
    // A bare header (a recording that got no media) is no chunk: the demuxer fails on it.
    if (!hasCluster(new Uint8Array(data))) {
      this.stats.empty++;
      return;
    }
    this.type = type;
    // Bounded: if appends cannot keep up (or the player is being rebuilt), only the newest chunks matter.
    this.appendQueue.push(data);
    while (this.appendQueue.length > 2) this.appendQueue.shift();
    this.pump();
  }

  private pump() {
    const ms = this.mediaSource;
    if (!ms || ms.readyState !== 'open' || !this.type || this.stop$.signal.aborted) return;
    if (!this.sourceBuffer) {
      try {
        const sb = (this.sourceBuffer = ms.addSourceBuffer(this.type));
        sb.mode = 'sequence';
        sb.addEventListener('updateend', () => {
          // Stopped (the call moved to another path): the element may show something else now,
          // and this buffer may be gone from its MediaSource.
          if (sb !== this.sourceBuffer || this.stop$.signal.aborted) return;
          this.afterAppend();
          this.pump();
        });
      } catch (error) {
        this.onError(error);
        return;
      }
    }
    const sb = this.sourceBuffer;
    if (sb.updating) return;
    const buffered = sb.buffered;
    const playhead = (this.element?.currentTime ?? 0) - KEEP_BEHIND_S;
    if (buffered.length && buffered.start(0) < playhead - 1) {
      sb.remove(0, playhead);
      return; // updateend pumps again
    }
    const next = this.appendQueue.shift();
    if (!next) return;
    try {
      sb.appendBuffer(next);
    } catch (error) {
      // The MediaSource may have closed on a decode error a moment ago: the element's 'error'
      // event follows and rebuilds (rebuilding here too would start a second player).
      if (ms.readyState === 'open') this.onError(error);
    }
  }

  /**
   * Playback control. Media arrives in whole chunks (about 1 s each), so the player keeps a
   * little headroom: it starts (and after a stall restarts) only with TARGET_AHEAD_S buffered,
   * and when more than MAX_AHEAD_S piled up (a stall, a slow tab) it jumps forward to the
   * target: the delay stays a second or two, never grows.
   */
  private afterAppend() {
    const element = this.element;
    const sb = this.sourceBuffer;
    if (!element || !sb || this.stop$.signal.aborted || this.mediaSource?.readyState !== 'open' || sb.updating || sb.buffered.length === 0) return;
    const end = sb.buffered.end(sb.buffered.length - 1);
    const ahead = end - element.currentTime;
    if (!this.playing) {
      if (ahead < TARGET_AHEAD_S) return;
      element.currentTime = Math.max(sb.buffered.start(0), end - TARGET_AHEAD_S);
      this.playing = true;
      element.play().catch(() => {});
    } else if (ahead > MAX_AHEAD_S) {
      element.currentTime = end - TARGET_AHEAD_S;
      this.stats.jumps++;
    }
  }

  private readonly onWaiting = () => {
    // Ran dry: wait for headroom again rather than stuttering chunk by chunk.
    // A seek (ours) also fires 'waiting': only a real underrun counts.
    const element = this.element;
    if (!element || !this.playing || element.seeking) return;
    // A hole in the video (a busy sender's recording came out short): skip to the media after it.
    const b = element.buffered;
    for (let k = 0; k < b.length; k++) {
      if (b.start(k) > element.currentTime && b.end(k) - b.start(k) > 0.05) {
        element.currentTime = b.start(k) + 0.01;
        this.stats.jumps++;
        return;
      }
    }
    this.playing = false;
    element.pause(); // the next chunks resume it (afterAppend)
  };
}
