/** Turns every failure into `{error: {code, message}}` with the right status; logs the unexpected ones. */
import type { Context, Next } from 'koa';
import type { Logger } from 'pino';
import { ZodError } from 'zod';
import { AppError } from '../errors.js';

const STATUS_CODES: Record<number, { code: 'not_found' | 'invalid_request'; message: string }> = {
  404: { code: 'not_found', message: 'no such endpoint' },
  405: { code: 'invalid_request', message: 'this endpoint does not take that method' },
};

export interface ErrorAnswer {
  status: number;
  headers: Record<string, string>;
  body: { error: { code: string; message: string; issues?: Array<{ path: string; message: string }> } };
}

/** The answer to a failed request; unexpected failures are logged (with `where`) and become a 500. */
export function errorAnswer(error: unknown, log: Logger, where: { method?: string; url?: string }): ErrorAnswer {
  if (error instanceof AppError) {
    return { status: error.status, headers: error.headers, body: { error: { code: error.code, message: error.message } } };
  }
  if (error instanceof ZodError) {
    const issues = error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
    const message = issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ');
    return { status: 400, headers: {}, body: { error: { code: 'invalid_request', message, issues } } };
  }
  log.error({ err: error, method: where.method, url: where.url }, 'request failed');
  return { status: 500, headers: {}, body: { error: { code: 'internal_error', message: 'something went wrong on the server; it was logged' } } };
}

export function errors(log: Logger) {
  return async function errorBoundary(ctx: Context, next: Next) {
    try {
      await next();
      if (ctx.body === undefined && ctx.status in STATUS_CODES) {
        const { code, message } = STATUS_CODES[ctx.status]!;
        const status = ctx.status;
        ctx.body = { error: { code, message } };
        ctx.status = status;
      }
    } catch (error) {
      const answer = errorAnswer(error, log, ctx);
      ctx.status = answer.status;
      ctx.set(answer.headers);
      ctx.body = answer.body;
    }
  };
}

/**
 * Koa's 'error' listener. What reaches it got past the error boundary: a request stream that broke
 * (client gone, malformed chunked body) or a response that could not be written. Logged once, at
 * debug (Koa can report one error twice: from the request and from the response finishing).
 */
export function koaErrorLogger(log: Logger) {
  const seen = new WeakSet<object>();
  return (error: unknown, ctx?: Context) => {
    if (typeof error === 'object' && error !== null) {
      if (seen.has(error)) return;
      seen.add(error);
    }
    log.debug({ err: error, method: ctx?.method, url: ctx?.url }, 'request ended with an error');
  };
}
