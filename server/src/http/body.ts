/** Reads a JSON request body: right content type, bounded size, valid UTF-8, valid JSON. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Context } from 'koa';
import getRawBody from 'raw-body';
import { LIMITS } from '../../../shared/index.js';
import { AppError } from '../errors.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * How long a JSON body (at most 64 KiB) may take to arrive. Without it a slow sender holds the
 * socket and the handler until the server-wide request timeout (15 min, sized for uploads).
 */
export const JSON_BODY_DEADLINE_MS = 10_000;

/**
 * The raw body, at most `limit` bytes (raw-body's errors), within `deadlineMs`: past it, a 408
 * AppError, and the connection ends with that answer (the rest of the body is not waited for).
 */
export async function rawBodyWithin(req: IncomingMessage, res: ServerResponse, limit: number, deadlineMs: number): Promise<Buffer> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      res.once('finish', () => req.destroy());
      reject(new AppError(408, 'invalid_request', `the body did not arrive within ${deadlineMs / 1000} s`, { Connection: 'close' }));
    }, deadlineMs);
  });
  try {
    return await Promise.race([getRawBody(req, { limit, length: req.headers['content-length'] || undefined }), late]);
  } finally {
    clearTimeout(timer);
  }
}

export async function readJsonBody(ctx: Context): Promise<unknown> {
  if (!ctx.is('application/json')) {
    throw new AppError(415, 'unsupported_media_type', 'send the body as application/json');
  }
  return readJson(ctx.req, ctx.res);
}

/** The JSON body of a request already known to be application/json (the send lane's check is stricter than Koa's). */
export async function readJson(req: IncomingMessage, res: ServerResponse): Promise<unknown> {
  let raw: Buffer;
  try {
    raw = await rawBodyWithin(req, res, LIMITS.jsonBodyBytes, JSON_BODY_DEADLINE_MS);
  } catch (error: any) {
    if (error instanceof AppError) throw error;
    if (error?.type === 'entity.too.large') {
      throw new AppError(413, 'body_too_large', `the body may have at most ${LIMITS.jsonBodyBytes} bytes`);
    }
    if (error?.type === 'request.size.invalid') throw new AppError(400, 'invalid_request', 'the body is shorter or longer than Content-Length');
    throw new AppError(400, 'invalid_request', 'the request body could not be read');
  }
  let text: string;
  try {
    text = utf8.decode(raw);
  } catch {
    throw new AppError(400, 'invalid_json', 'the body is not valid UTF-8');
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new AppError(400, 'invalid_json', 'the body is not valid JSON');
  }
}
