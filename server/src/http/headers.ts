/** Headers every API answer carries: no sniffing, no framing, no caching of personal data. */
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { Context, Next } from 'koa';

export const SECURITY_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
  'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
} as const;
export const HSTS = 'max-age=31536000';

/** HSTS only on answers that came over TLS itself (never on plain HTTP, where it is ignored anyway). */
export const overTls = (req: IncomingMessage) => (req.socket as TLSSocket).encrypted === true;

export async function securityHeaders(ctx: Context, next: Next) {
  ctx.set(SECURITY_HEADERS);
  if (overTls(ctx.req)) ctx.set('Strict-Transport-Security', HSTS);
  await next();
}
