/** Headers every API answer carries: no sniffing, no framing, no caching of personal data. */
import type { Context, Next } from 'koa';

export async function securityHeaders(ctx: Context, next: Next) {
  ctx.set({
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'no-referrer',
    'Cache-Control': 'no-store',
    'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
  });
  await next();
}
