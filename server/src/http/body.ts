/** Reads a JSON request body: right content type, bounded size, valid UTF-8, valid JSON. */
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

export async function readJsonBody(ctx: Context): Promise<unknown> {
  if (!ctx.is('application/json')) {
    throw new AppError(415, 'unsupported_media_type', 'send the body as application/json');
  }
  let raw: Buffer;
  let timer: NodeJS.Timeout | undefined;
  try {
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(Object.assign(new Error('body deadline'), { type: 'portico.body.late' })), JSON_BODY_DEADLINE_MS);
    });
    raw = await Promise.race([getRawBody(ctx.req, { limit: LIMITS.jsonBodyBytes, length: ctx.get('content-length') || undefined }), late]);
  } catch (error: any) {
    if (error?.type === 'portico.body.late') {
      // The rest of the body is not waited for: the connection ends with the answer.
      ctx.res.once('finish', () => ctx.req.destroy());
      throw new AppError(408, 'invalid_request', `the body did not arrive within ${JSON_BODY_DEADLINE_MS / 1000} s`, { Connection: 'close' });
    }
    if (error?.type === 'entity.too.large') {
      throw new AppError(413, 'body_too_large', `the body may have at most ${LIMITS.jsonBodyBytes} bytes`);
    }
    if (error?.type === 'request.size.invalid') throw new AppError(400, 'invalid_request', 'the body is shorter or longer than Content-Length');
    throw new AppError(400, 'invalid_request', 'the request body could not be read');
  } finally {
    clearTimeout(timer);
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
