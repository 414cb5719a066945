/**
 * Calls (audio/video phone between chat members): the call record, its signalling, and the
 * ICE server hand-out. Signalling travels as durable events of the call on the members' own
 * user topics, exactly like chat.
 *
 * This file imports only zod and limits: shared/schemas.ts imports it (Event union, Message),
 * so importing schemas.ts from here would be an import cycle.
 */
import { z } from 'zod';
import { LIMITS } from './limits.js';

export const CALL_LIMITS = {
  /** Most people in one call, the caller included. */
  members: 4,
  /** Largest SDP (characters); fits the 64 KiB JSON body limit with the envelope. */
  sdpChars: 60_000,
  /** Longest ICE candidate line and mid/ufrag. */
  candidateChars: 1024,
  idChars: 256,
} as const;

/** Same rule as Username in schemas.ts (kept here to avoid the import cycle). */
export const CallUsername = z
  .string()
  .min(2)
  .max(LIMITS.usernameChars)
  .regex(/^[a-z0-9][a-z0-9._-]*$/i, 'letters, digits, dot, dash and underscore; starts with a letter or digit');
const Time = z.string().describe('ISO 8601 time');

export const CallId = z.string().uuid();
export const CallState = z.enum(['ringing', 'active', 'ended']);
export type CallState = z.infer<typeof CallState>;
export const CallMemberState = z.enum(['ringing', 'joined', 'declined', 'missed', 'left']);
export type CallMemberState = z.infer<typeof CallMemberState>;
export const CallEndReason = z.enum(['hangup', 'declined', 'missed', 'failed']);
export type CallEndReason = z.infer<typeof CallEndReason>;

export const CallMember = z.strictObject({
  username: z.string(),
  displayName: z.string(),
  state: CallMemberState,
  /** While it rings them: who rang them into the call already running (shared/call-state.ts, POST /calls/:id/ring). */
  rungBy: z.string().optional(),
});
export type CallMember = z.infer<typeof CallMember>;

export const Call = z.strictObject({
  id: z.string(),
  chatId: z.string(),
  createdBy: z.string(),
  createdAt: Time,
  video: z.boolean(),
  state: CallState,
  /** The caller is a member in state 'joined' from the start. */
  members: z.array(CallMember),
  answeredAt: Time.optional(),
  endedAt: Time.optional(),
  endReason: CallEndReason.optional(),
  /** On hold (a call of two only): the username of the member who put it on hold (shared/call-state.ts). */
  heldBy: z.string().optional(),
  /** A transfer ringing its target: who transfers to whom, and why (shared/call-state.ts). */
  transfer: z
    .strictObject({
      from: z.string(),
      fromName: z.string(),
      to: z.string(),
      toName: z.string(),
      reason: z.string().optional(),
      /** Warm transfer: the target joins and talks with the transferor first; the handover is when the transferor hangs up. */
      warm: z.literal(true).optional(),
    })
    .optional(),
});
export type Call = z.infer<typeof Call>;

// ---------- signalling ----------
export const Sdp = z.string().min(1).max(CALL_LIMITS.sdpChars);
export const IceCandidate = z.strictObject({
  candidate: z.string().max(CALL_LIMITS.candidateChars),
  sdpMid: z.string().max(CALL_LIMITS.idChars).nullable().optional(),
  sdpMLineIndex: z.number().int().min(0).max(1000).nullable().optional(),
  usernameFragment: z.string().max(CALL_LIMITS.idChars).nullable().optional(),
});
export type IceCandidate = z.infer<typeof IceCandidate>;
export const CallPath = z.enum(['direct', 'turn', 'http-relay']);
export type CallPath = z.infer<typeof CallPath>;
export const CallSignal = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('offer'), sdp: Sdp }),
  z.strictObject({ kind: z.literal('answer'), sdp: Sdp }),
  /** null: end of candidates. */
  z.strictObject({ kind: z.literal('candidate'), candidate: IceCandidate.nullable() }),
  /** The sender tells which media path it now uses. */
  z.strictObject({ kind: z.literal('path'), path: CallPath }),
  /** The sender started (on) or stopped sharing a screen or window: the receiver lays it out large. */
  z.strictObject({ kind: z.literal('screen'), on: z.boolean() }),
]);
export type CallSignal = z.infer<typeof CallSignal>;

// ---------- requests & responses ----------
export const StartCallRequest = z.strictObject({
  chatId: z.string().uuid(),
  video: z.boolean().default(true),
});
export type StartCallRequest = z.input<typeof StartCallRequest>;
export const CallParams = z.strictObject({ id: CallId });
export const CallResponse = z.strictObject({ call: Call });
export type CallResponse = z.infer<typeof CallResponse>;
export const SignalRequest = z.strictObject({ to: CallUsername, signal: CallSignal });
export type SignalRequest = z.infer<typeof SignalRequest>;

export const CallPolicy = z.enum(['auto', 'turn', 'http']);
export type CallPolicy = z.infer<typeof CallPolicy>;
export const IceServer = z.strictObject({
  urls: z.array(z.string()),
  username: z.string().optional(),
  credential: z.string().optional(),
});
export type IceServer = z.infer<typeof IceServer>;
export const IceServersResponse = z.strictObject({
  iceServers: z.array(IceServer),
  /** When the TURN credentials stop working: fetch new ones before then. */
  expiresAt: Time,
  /**
   * 'turn': relay-only ICE first; 'http': media start on the HTTP relay at once (the site blocks
   * UDP), direct ICE is tried in the background and takes over when it connects; 'auto': try in order.
   */
  policy: CallPolicy,
});
export type IceServersResponse = z.infer<typeof IceServersResponse>;

/** What a chat message records about a call that ended (text stays a plain-English fallback). */
export const MessageCall = z.strictObject({
  id: z.string(),
  outcome: z.enum(['missed', 'declined', 'completed']),
  durationSeconds: z.number().int().min(0).optional(),
});
export type MessageCall = z.infer<typeof MessageCall>;

// ---------- HTTP relay (media through the Portico server when no ICE path works) ----------
/**
 * Each side records its camera and microphone in short, self-contained WebM chunks (a new
 * MediaRecorder every ~1 s, so every chunk starts with its own header and a key frame) and PUTs
 * them; the other side long-polls the next one. The server keeps only the last few chunks per
 * sender in memory, so a receiver that falls behind skips to the newest instead of lagging more.
 */
export const RELAY_LIMITS = {
  /** Largest chunk (bytes): about 1 s of 720p VP8 + Opus has room to spare. */
  chunkBytes: 2 * 1024 * 1024,
  /** Chunks kept per (call, sender): the bound on memory and on delay. */
  chunksKept: 4,
  /** A receiver more than this many chunks behind the newest jumps to the newest. */
  maxBacklog: 1,
  /** Longest hold of a download waiting for a chunk (seconds). */
  waitMax: 20,
  /** A sender silent for this long has its buffer dropped (ms). */
  idleMs: 30_000,
  /**
   * Bytes held for one call (all its senders and streams): beyond it the oldest chunks of the
   * uploading ring go first; a chunk that still does not fit is refused (429). One call's flood
   * cannot take the memory of the others.
   */
  callBytes: 24 * 1024 * 1024,
  /** Bytes held for all calls of this server: the same rule, server-wide. */
  totalBytes: 256 * 1024 * 1024,
  /** Uploads of one sender to one call being read at once (each up to chunkBytes): more are refused (429) before their body is read. */
  uploadsPerCall: 8,
  /**
   * Bytes one sender may upload to one call per second, averaged over a few seconds: its 2 streams
   * of ≤ 600 kbit/s need well under 1 MiB/s; past it uploads are refused (429) before their body is read.
   */
  callBytesPerSecond: 2 * 1024 * 1024,
} as const;
/**
 * Which of a sender's streams a chunk belongs to: 'media' (camera and microphone, the default,
 * what clients before screen sharing send) or 'screen' (a shared screen or window, video only).
 */
export const RelayStream = z.enum(['media', 'screen']);
export type RelayStream = z.infer<typeof RelayStream>;
export const RelayUploadQuery = z.strictObject({ stream: RelayStream.default('media') });
/** The chunk's media type, echoed to the receiver (strict: it goes back out in a header). */
export const RelayMediaType = z
  .string()
  .max(100)
  .regex(/^(video|audio)\/webm(;\s*codecs="?[a-z0-9.,]+"?)?$/i, 'video/webm or audio/webm, optionally with codecs');
export const RelayUploadParams = z.strictObject({ id: CallId, seq: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER) });
export const RelayDownloadParams = z.strictObject({ id: CallId, from: CallUsername });
export const RelayDownloadQuery = z.strictObject({
  /** The last sequence number the receiver has; -1 (default) for "from the newest". */
  after: z.coerce.number().int().min(-1).max(Number.MAX_SAFE_INTEGER).default(-1),
  wait: z.coerce.number().int().min(0).max(RELAY_LIMITS.waitMax).default(RELAY_LIMITS.waitMax),
  stream: RelayStream.default('media'),
});
export const RelayUploadResponse = z.strictObject({ seq: z.number().int(), kept: z.number().int() });
/** Headers of a download answer (the body is the chunk itself). */
export const RELAY_HEADERS = { seq: 'x-relay-seq', skipped: 'x-relay-skipped', newest: 'x-relay-newest' } as const;
