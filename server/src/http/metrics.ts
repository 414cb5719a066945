/** Prometheus metrics (prom-client), one registry per server so several can run in one process. */
import type { Context, Next } from 'koa';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { AfterTurn } from '../after-turn.js';

/** Default metrics of prom-client that break Prometheus's naming rules. */
export const MISNAMED_DEFAULTS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'] as const;

export function createMetrics(gauges: { heldPolls: () => number; connectedUsers: () => number }) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  // prom-client names three gauges `*_total`, a suffix Prometheus keeps for counters (promtool
  // check metrics refuses them). Each is the sum of the same gauge by type, which stays
  // (sum(nodejs_active_handles) is the total), so nothing is lost by dropping them.
  for (const name of MISNAMED_DEFAULTS) registry.removeSingleMetric(name);
  const requests = new Histogram({
    name: 'portico_http_request_duration_seconds',
    help: 'HTTP requests by route and status (held polls included)',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.005, 0.02, 0.1, 0.5, 2, 10, 30, 60],
    registers: [registry],
  });
  const events = new Counter({ name: 'portico_events_published_total', help: 'Events committed to the log', registers: [registry] });
  new Gauge({ name: 'portico_held_polls', help: 'Long polls held open now', registers: [registry], collect() { this.set(gauges.heldPolls()); } });
  new Gauge({ name: 'portico_connected_users', help: 'Users counted as connected', registers: [registry], collect() { this.set(gauges.connectedUsers()); } });

  async function measure(ctx: Context, next: Next) {
    const end = requests.startTimer();
    try {
      await next();
    } finally {
      end({ method: ctx.method, route: (ctx.state.route as string | undefined) ?? 'unmatched', status: String(ctx.status) });
    }
  }
  /**
   * For requests answered outside Koa (the event lane): the same histogram, same labels. Recorded
   * after the current run of answers, not between them: prom-client checks and hashes the labels
   * on every observation (~1 us), and a fan-out answers thousands of polls in one run.
   */
  type Child = ReturnType<typeof requests.labels>;
  const children = new Map<string, Child>();
  const observed = new AfterTurn<{ child: Child; seconds: number }>((all) => {
    for (const { child, seconds } of all) child.observe(seconds);
  });
  function observe(method: string, route: string, status: number, seconds: number) {
    const key = `${method} ${route} ${status}`;
    let child = children.get(key);
    if (!child) children.set(key, (child = requests.labels(method, route, String(status))));
    observed.add({ child, seconds });
  }
  return { registry, measure, observe, eventsPublished: events };
}
