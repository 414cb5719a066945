/**
 * `POST` with `X-HTTP-Method-Override: PUT|PATCH|DELETE` stands for that method on the API: some
 * corporate proxies pass only GET and POST, and would otherwise block every message send. The
 * middleware sits before the router, so the route, its authentication, validation, rate limits
 * and the request metrics all see the overridden method; nothing is reachable this way that the
 * real method would not reach. The event lane (events/lane.ts) reads the header with the same
 * function, so a message sent either way takes the same path.
 *
 * Strict on purpose: only POST may carry the header, only those three values, only under /api/.
 * Anything else under /api/ with the header (a GET, a PUT, `GET`, `PUT, DELETE`) is a 400
 * `invalid_method_override` rather than silently served as the method on the wire; outside
 * /api/ (the panel's files, media, health) the header means nothing and is ignored.
 */
import type { IncomingMessage } from 'node:http';
import type { Context, Next } from 'koa';
import { AppError } from '../errors.js';

export const METHOD_OVERRIDE_HEADER = 'x-http-method-override';
const OVERRIDABLE = new Set(['PUT', 'PATCH', 'DELETE']);

/**
 * The method a request stands for: its own when it has no override header (or is outside /api/),
 * the header's value for a well-formed override; an AppError when the override is not allowed.
 */
export function effectiveMethod(req: Pick<IncomingMessage, 'method' | 'url' | 'headers'>): string | AppError {
  const method = req.method ?? 'GET';
  const header = req.headers[METHOD_OVERRIDE_HEADER];
  if (header === undefined || !(req.url ?? '').startsWith('/api/')) return method;
  if (method !== 'POST') {
    return new AppError(400, 'invalid_method_override', `only POST may carry ${METHOD_OVERRIDE_HEADER} (this is ${method})`);
  }
  const wanted = (Array.isArray(header) ? header.join(', ') : header).trim().toUpperCase();
  if (!OVERRIDABLE.has(wanted)) {
    return new AppError(400, 'invalid_method_override', `${METHOD_OVERRIDE_HEADER} may be PUT, PATCH or DELETE, not ${JSON.stringify(header)}`);
  }
  return wanted;
}

export async function methodOverride(ctx: Context, next: Next) {
  const method = effectiveMethod(ctx.req);
  if (method instanceof AppError) throw method;
  // Sets req.method: the router, the route and the metrics' label read it from there.
  if (method !== ctx.method) ctx.method = method;
  await next();
}
