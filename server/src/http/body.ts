/** Reads a JSON request body: right content type, bounded size, valid UTF-8, valid JSON. */
import type { Context } from 'koa';
import getRawBody from 'raw-body';
import { LIMITS } from '../../../shared/index.js';
import { AppError } from '../errors.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

export async function readJsonBody(ctx: Context): Promise<unknown> {
  if (!ctx.is('application/json')) {
    throw new AppError(415, 'unsupported_media_type', 'send the body as application/json');
  }
  let raw: Buffer;
  try {
    raw = await getRawBody(ctx.req, { limit: LIMITS.jsonBodyBytes, length: ctx.get('content-length') || undefined });
  } catch (error: any) {
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
