/**
 * Charts: a provider appends points to a named series of a channel (a time given again replaces
 * its value; the oldest points beyond PORTAL_LIMITS.chartPointsKept are dropped); users read the
 * series.
 */
import { z } from 'zod';
import { ChartPush, ChartsQuery, ChartsResponse, PORTAL_LIMITS } from '../../../shared/index.js';
import type { Services } from '../context.js';
import { route } from '../http/route.js';
import { ProviderGate } from '../providers/cgi.js';
import { parsePoints } from './points.js';
import { addChartPoints } from './rules.js';

/** The answer to a chart push: the series and how many points were taken (a time given twice counts once). */
export const ChartAccepted = z.strictObject({
  channel: z.string(),
  series: z.string(),
  points: z.number().int().describe('points accepted'),
});

export function chartRoutes({ store }: Services) {
  return [
    route({
      method: 'post',
      path: '/cgi/chart',
      tag: 'providers',
      summary:
        'Push chart points: channel, series, unit?, points as JSON [[time, value], ...] or [{time, value}, ...] or text ' +
        `"time:value,time:value"; time in Unix seconds, Unix ms or ISO 8601; 1 to ${PORTAL_LIMITS.chartPointsPerPost} points`,
      access: 'provider',
      body: ChartPush,
      response: ChartAccepted,
      status: 201,
      async handler({ body, provider }) {
        ProviderGate.allow(provider, body.channel);
        const points = parsePoints(body.points, PORTAL_LIMITS.chartPointsPerPost);
        const unit = body.unit?.trim() || undefined;
        const series = await store.write((tx) => addChartPoints(tx, body.channel, body.series, unit, points, PORTAL_LIMITS.chartPointsKept));
        return { channel: series.channel, series: series.series, points: points.length };
      },
    }),
    route({
      method: 'get',
      path: '/api/v1/charts',
      tag: 'portal',
      summary: 'Chart series with their points ([Unix ms, value], oldest first), of one channel and/or series if given',
      access: 'user',
      query: ChartsQuery,
      response: ChartsResponse,
      async handler({ query }) {
        return { series: await store.portal.chartSeries(query.channel, query.series) };
      },
    }),
  ];
}
