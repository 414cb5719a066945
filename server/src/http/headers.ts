/** Headers every API answer carries: no sniffing, no framing, no caching of personal data. */
import type { TLSSocket } from 'node:tls';
import type { Context, Next } from 'koa';

export async function securityHeaders(ctx: Context, next: Next) {
  ctx.set({
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'no-referrer',
    'Cache-Control': 'no-store',
    'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
  });
  // HSTS only on answers that came over TLS itself (never on plain HTTP, where it is ignored anyway).
  if ((ctx.req.socket as TLSSocket).encrypted) ctx.set('Strict-Transport-Security', 'max-age=31536000');
  await next();
}
