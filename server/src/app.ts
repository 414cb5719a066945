/**
 * Builds the request listener: the event lane for the lane routes (held polls and message sends,
 * events/lane.ts, served from their declarations below), and the Koa app for everything else. The Koa middleware order, outermost first:
 *   1. metrics   – times every request, with its final status
 *   2. errors    – every failure becomes `{error: {code, message}}` with its status
 *   3. headers   – security headers on every answer
 *   4. router    – per route: authentication (user token, or provider key/signature with its
 *                  rate limit), input validation (zod), handler
 */
import Router from '@koa/router';
import Koa from 'koa';
import { adminRoutes } from './admin/routes.js';
import { koaProxyOptions, trustedProxies } from './auth/client-address.js';
import { authRoutes } from './auth/routes.js';
import { callRoutes } from './calls/routes.js';
import { relayRoutes } from './calls/relay-routes.js';
import { chatFileRoutes, chatFileServing } from './chat/file-routes.js';
import { chatRoutes } from './chat/routes.js';
import { searchRoutes } from './chat/search.js';
import { contactRoutes } from './contacts/routes.js';
import type { Services } from './context.js';
import { eventLane, type Lane } from './events/lane.js';
import { eventRoutes } from './events/routes.js';
import { authenticator } from './http/auth.js';
import { errors, koaErrorLogger } from './http/errors.js';
import { securityHeaders } from './http/headers.js';
import { createMetrics } from './http/metrics.js';
import { methodOverride } from './http/method-override.js';
import { mount, type RouteSpec } from './http/route.js';
import { presenceRoutes } from './presence/routes.js';
import { channelRoutes } from './channels/routes.js';
import { providerAdminRoutes } from './providers/routes.js';
import { tickerRoutes } from './ticker/routes.js';
import { noticeRoutes } from './notices/routes.js';
import { chartRoutes } from './charts/routes.js';
import { linksRoutes } from './links/routes.js';
import { mediaRoutes } from './media/routes.js';
import { mediaServing } from './media/serve.js';
import { avatarServing } from './me/avatars.js';
import { meRoutes } from './me/routes.js';
import { meetingRoutes, meetingServing } from './meetings/routes.js';
import { panelServing } from './panel/serve.js';
import { systemRoutes } from './system/routes.js';
import { terminalRoutes } from './terminals/routes.js';
import { updateRoutes } from './updates/routes.js';
import { updatesServing } from './updates/serve.js';
import { VERSION } from './version.js';

export function buildApp(services: Services): Lane {
  const routes: RouteSpec[] = [
    ...authRoutes(services),
    ...contactRoutes(services),
    ...meRoutes(services),
    ...presenceRoutes(services),
    ...chatRoutes(services),
    ...chatFileRoutes(services),
    ...searchRoutes(services),
    ...callRoutes(services),
    ...relayRoutes(services),
    ...eventRoutes(services),
    ...adminRoutes(services),
    ...providerAdminRoutes(services),
    ...channelRoutes(services),
    ...tickerRoutes(services),
    ...noticeRoutes(services),
    ...chartRoutes(services),
    ...linksRoutes(services),
    ...mediaRoutes(services),
    ...meetingRoutes(services),
    ...terminalRoutes(services),
    ...updateRoutes(services),
  ];
  const metrics = createMetrics({
    heldPolls: () => services.hub.size,
    connectedUsers: () => services.presence.tracker.size,
  });
  services.store.onCommit((events) => metrics.eventsPublished.inc(events.length));

  const { trustProxy } = services.config;
  const app = new Koa(koaProxyOptions(trustProxy));
  // Errors Koa sees after the error boundary (a body the client broke off, a bad chunk): they are
  // the client's doing, so a debug line, not Koa's default stack trace on stderr.
  app.on('error', koaErrorLogger(services.log));
  if (Array.isArray(trustProxy)) app.use(trustedProxies(trustProxy));
  app.use(metrics.measure);
  app.use(errors(services.log));
  app.use(securityHeaders);
  app.use(methodOverride); // POST + X-HTTP-Method-Override: PUT|PATCH|DELETE, before the router

  const router = new Router();
  const authenticate = authenticator(services.sessions);
  mount(router, routes, { authenticate, providers: services.providers });
  systemRoutes(router, { routes, version: VERSION, registry: metrics.registry, authenticate });
  mediaServing(router, services);
  avatarServing(router, services);
  chatFileServing(router, services, authenticate);
  meetingServing(router, services);
  updatesServing(router, services);
  panelServing(router);
  app.use(router.routes());
  app.use(router.allowedMethods());
  return eventLane(
    {
      sessions: services.sessions,
      routes,
      log: services.log,
      observe: metrics.observe,
    },
    app.callback(),
  );
}
