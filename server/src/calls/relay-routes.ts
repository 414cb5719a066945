/**
 * Routes of the HTTP relay (see relay.ts): upload a chunk, long-poll the next one of a member.
 * Only members who joined an active call may send or receive; a chunk's body is binary (not
 * JSON), read here with its own size cap.
 */
import type { Context } from 'koa';
import getRawBody from 'raw-body';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { z } from 'zod';
import type { Call } from '../../../shared/index.js';
import { RELAY_HEADERS, RELAY_LIMITS, RelayDownloadParams, RelayDownloadQuery, RelayMediaType, RelayUploadParams, RelayUploadQuery, RelayUploadResponse } from '../../../shared/index.js';
import type { Services } from '../context.js';
import { AppError } from '../errors.js';
import { route } from '../http/route.js';
import { RelayFullError, type RelayBuffers } from './relay.js';

/** How the relay learns about calls (the call service's record). */
export interface RelayCalls {
  get(id: string): Promise<Call | undefined> | Call | undefined;
}

/** The calls as the store has them. */
export const storedCalls = ({ store }: Services): RelayCalls => ({ get: async (id) => (await store.calls.byId(id))?.call });

/**
 * Both relay routes share one path, /relay/<seq> to upload and /relay/<member> to download, so
 * their last segment has one name (OpenAPI, and Redocly's no-identical-paths, want one path
 * with one parameter name; what it holds differs by method). The URLs are unchanged.
 */
const UploadParams = z.strictObject({
  id: RelayUploadParams.shape.id,
  seqOrMember: RelayUploadParams.shape.seq.describe("upload: the chunk's sequence number (the sender's own, counting up from 0)"),
});
const DownloadParams = z.strictObject({
  id: RelayDownloadParams.shape.id,
  seqOrMember: RelayDownloadParams.shape.from.describe('download: the username of the member whose chunks to read'),
});
const RELAY_TYPES = ['video/webm', 'audio/webm'] as const;
const counter = (description: string) => ({ description, schema: { type: 'integer', minimum: 0 } });

const joined = (call: Call, username: string) => call.members.find((m) => m.username.toLowerCase() === username.toLowerCase() && m.state === 'joined');

/** The relay's routes over the server's buffers (server.ts sweeps and closes them). */
export function relayRoutes(services: Services, calls: RelayCalls = storedCalls(services), buffers: RelayBuffers = services.relay) {

  /** The call, if `username` may use its relay now; an ended call's buffers go at once. */
  async function activeCall(id: string, username: string): Promise<Call> {
    const call = await calls.get(id);
    if (!call || !call.members.some((m) => m.username.toLowerCase() === username.toLowerCase())) throw new AppError(404, 'not_found', 'call not found');
    if (call.state !== 'active') {
      if (call.state === 'ended') buffers.dropCall(id);
      throw new AppError(409, 'conflict', `the call is ${call.state}, not active: the relay carries media only during a call`);
    }
    if (!joined(call, username)) throw new AppError(403, 'forbidden', 'only members who joined the call may use its relay');
    return call;
  }

  /**
   * Uploads being read per sender of a call: a sender that floods the relay with parallel uploads
   * is refused before their bodies are read, so it cannot hold the server's memory or its time
   * (the other calls' uploads and everybody's polls go on).
   */
  const reading = new Map<string, number>();
  const busy = (seconds: number, text: string) => new AppError(429, 'rate_limited', text, { 'Retry-After': String(seconds) });
  /**
   * An upload refused before its body is read: the answer goes out at once and the connection
   * ends as soon as it is written. Without the destroy, Node drains what of the body has arrived
   * until the socket closes (measured: ~200 KiB per refused 2 MiB upload) on the server's thread.
   */
  function refuse(ctx: Context, seconds: number, text: string): AppError {
    ctx.res.once('finish', () => ctx.req.destroy());
    return new AppError(429, 'rate_limited', text, { 'Retry-After': String(seconds), Connection: 'close' });
  }
  /** Bytes per sender of a call over a 4 s window (this node's memory: a call's relay lives on one node). */
  const WINDOW_S = 4;
  const rate = new RateLimiterMemory({ points: RELAY_LIMITS.callBytesPerSecond * WINDOW_S, duration: WINDOW_S, keyPrefix: 'relay-bytes' });
  /** Charges `bytes` to a sender of a call; 429 past its rate (refused: its body is not read). */
  async function charge(ctx: Context, sender: string, bytes: number) {
    try {
      await rate.consume(sender, Math.max(1, bytes));
    } catch (res) {
      if (!(res instanceof RateLimiterRes)) throw res;
      throw refuse(ctx, Math.max(1, Math.ceil(res.msBeforeNext / 1000)), `you send more than ${RELAY_LIMITS.callBytesPerSecond} bytes per second to this call's relay; send the newest chunk in a moment`);
    }
  }

  return [
    route({
      method: 'put',
      path: '/api/v1/calls/:id/relay/:seqOrMember',
      tag: 'calls',
      summary:
        `HTTP relay upload: one self-contained WebM chunk (binary body, Content-Type video/webm or audio/webm, at most ${RELAY_LIMITS.chunkBytes} bytes) ` +
        `with the sender's next sequence number, of stream \`stream\` (media: camera and microphone, the default; screen: a shared screen). ` +
        `Only the last ${RELAY_LIMITS.chunksKept} chunks per sender and stream are kept (in memory); ` +
        `429 when the sender has ${RELAY_LIMITS.uploadsPerCall} uploads to the call in flight, sends more than ${RELAY_LIMITS.callBytesPerSecond} bytes/s, or holds ${RELAY_LIMITS.callBytes} bytes (the server ${RELAY_LIMITS.totalBytes}).`,
      access: 'user',
      guests: true, // a meeting guest in its meeting's call (members are checked by username)
      params: UploadParams,
      query: RelayUploadQuery,
      rawBody: { types: RELAY_TYPES, maxBytes: RELAY_LIMITS.chunkBytes, description: 'one self-contained WebM chunk' },
      errors: [403, 404, 409, 429],
      response: RelayUploadResponse,
      async handler({ params, query, session }, ctx: Context) {
        const seq = params.seqOrMember;
        const type = RelayMediaType.safeParse(ctx.get('content-type'));
        if (!type.success) throw new AppError(415, 'unsupported_media_type', 'send the chunk as video/webm or audio/webm');
        // Limits first (cheap, no store lookup), per sender of a call: nobody can use up another's.
        const sender = `${params.id}\n${session.user.username.toLowerCase()}`;
        const inFlight = reading.get(sender) ?? 0;
        if (inFlight >= RELAY_LIMITS.uploadsPerCall) {
          throw refuse(ctx, 1, `at most ${RELAY_LIMITS.uploadsPerCall} relay uploads of yours to one call at once; send the newest chunk when one has finished`);
        }
        const declared = Number(ctx.get('content-length'));
        if (Number.isFinite(declared) && declared > 0) await charge(ctx, sender, Math.min(declared, RELAY_LIMITS.chunkBytes));
        await activeCall(params.id, session.user.username);
        reading.set(sender, inFlight + 1);
        let data: Buffer;
        try {
          data = await readChunk(ctx);
        } finally {
          const left = (reading.get(sender) ?? 1) - 1;
          if (left > 0) reading.set(sender, left);
          else reading.delete(sender);
        }
        if (data.length === 0) throw new AppError(400, 'invalid_request', 'the chunk is empty');
        if (!(Number.isFinite(declared) && declared > 0)) await charge(ctx, sender, data.length); // chunked: charged once read
        try {
          buffers.put(params.id, session.user.username, { seq, type: type.data, data }, query.stream);
        } catch (error) {
          if (error instanceof RelayFullError) throw busy(1, `${error.message}; the oldest chunks are going, send the newest again in a moment`);
          throw error;
        }
        return { seq, kept: buffers.stats(params.id, session.user.username, query.stream).chunks };
      },
    }),
    route({
      method: 'get',
      path: '/api/v1/calls/:id/relay/:seqOrMember',
      tag: 'calls',
      summary:
        'HTTP relay download: the next chunk of member `seqOrMember` (of its stream `stream`, default media) after sequence `after` (binary body; headers x-relay-seq, x-relay-skipped, x-relay-newest), ' +
        'or the newest when the next is gone or the receiver is behind; held up to `wait` seconds, then 204 when none came',
      access: 'user',
      guests: true, // a meeting guest in its meeting's call (members are checked by username)
      params: DownloadParams,
      query: RelayDownloadQuery,
      response: z.string().describe('the chunk, binary, with the media type it was uploaded with'),
      responseTypes: RELAY_TYPES,
      responseHeaders: {
        [RELAY_HEADERS.seq]: counter("the chunk's sequence number"),
        [RELAY_HEADERS.skipped]: counter('how many chunks after `after` were skipped (gone, or the receiver was behind)'),
        [RELAY_HEADERS.newest]: counter('the newest sequence number the sender has uploaded'),
      },
      errors: [403, 404, 409],
      otherStatuses: [204],
      async handler({ params, query, session }, ctx: Context) {
        const from = params.seqOrMember;
        const call = await activeCall(params.id, session.user.username);
        if (!call.members.some((m) => m.username.toLowerCase() === from.toLowerCase())) throw new AppError(404, 'not_found', `${from} is not in this call`);
        const gone = new AbortController();
        const onClose = () => gone.abort();
        ctx.res.once('close', onClose);
        let answer;
        try {
          answer = await buffers.get(params.id, from, query.after, query.wait * 1000, gone.signal, query.stream);
        } finally {
          ctx.res.off('close', onClose);
        }
        ctx.set('cache-control', 'no-store');
        if (!answer) {
          ctx.state.status = 204;
          return undefined;
        }
        ctx.set(RELAY_HEADERS.seq, String(answer.chunk.seq));
        ctx.set(RELAY_HEADERS.skipped, String(answer.skipped));
        ctx.set(RELAY_HEADERS.newest, String(answer.newest));
        ctx.type = answer.chunk.type;
        return answer.chunk.data;
      },
    }),
  ];
}

async function readChunk(ctx: Context): Promise<Buffer> {
  try {
    return await getRawBody(ctx.req, { limit: RELAY_LIMITS.chunkBytes, length: ctx.get('content-length') || undefined });
  } catch (error: any) {
    if (error?.type === 'entity.too.large') throw new AppError(413, 'body_too_large', `a chunk may have at most ${RELAY_LIMITS.chunkBytes} bytes`);
    if (error?.type === 'request.size.invalid') throw new AppError(400, 'invalid_request', 'the body is shorter or longer than Content-Length');
    throw new AppError(400, 'invalid_request', 'the chunk could not be read');
  }
}
