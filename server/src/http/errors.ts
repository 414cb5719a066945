/** Turns every failure into `{error: {code, message}}` with the right status; logs the unexpected ones. */
import type { Context, Next } from 'koa';
import type { Logger } from 'pino';
import { ZodError } from 'zod';
import { AppError } from '../errors.js';

const STATUS_CODES: Record<number, { code: 'not_found' | 'invalid_request'; message: string }> = {
  404: { code: 'not_found', message: 'no such endpoint' },
  405: { code: 'invalid_request', message: 'this endpoint does not take that method' },
};

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
      if (error instanceof AppError) {
        ctx.status = error.status;
        ctx.set(error.headers);
        ctx.body = { error: { code: error.code, message: error.message } };
      } else if (error instanceof ZodError) {
        const issues = error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
        ctx.status = 400;
        ctx.body = {
          error: {
            code: 'invalid_request',
            message: issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; '),
            issues,
          },
        };
      } else {
        log.error({ err: error, method: ctx.method, url: ctx.url }, 'request failed');
        ctx.status = 500;
        ctx.body = { error: { code: 'internal_error', message: 'something went wrong on the server; it was logged' } };
      }
    }
  };
}
