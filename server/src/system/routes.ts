/** Health, metrics and the API description: for load balancers, monitoring and client authors. */
import type Router from '@koa/router';
import type { Context } from 'koa';
import type { Registry } from 'prom-client';
import { AppError } from '../errors.js';
import type { Access, RouteSpec } from '../http/route.js';
import { openApiDocument } from './openapi.js';

const isLoopback = (ip: string) => ip === '::1' || ip.startsWith('127.') || ip.startsWith('::ffff:127.');

export function systemRoutes(
  router: Router,
  opts: { routes: RouteSpec[]; version: string; registry: Registry; authenticate: (ctx: Context, access: Access) => Promise<void> },
) {
  let openapi: string | undefined;
  router.get('/healthz', (ctx) => {
    ctx.state.route = '/healthz';
    ctx.body = { ok: true, version: opts.version };
  });
  router.get('/api/v1/openapi.json', (ctx) => {
    ctx.state.route = '/api/v1/openapi.json';
    ctx.type = 'application/json';
    ctx.body = openapi ??= JSON.stringify(openApiDocument(opts.routes, opts.version));
  });
  // Metrics are for the machine's own monitoring, or an administrator.
  router.get('/metrics', async (ctx) => {
    ctx.state.route = '/metrics';
    if (!isLoopback(ctx.ip)) {
      if (!ctx.get('authorization')) throw new AppError(401, 'unauthorized', 'metrics need an administrator token from outside this machine');
      await opts.authenticate(ctx, 'admin');
    }
    ctx.type = opts.registry.contentType;
    ctx.body = await opts.registry.metrics();
  });
}
