/** Chart points a provider pushes: kept per series (the newest `keep`), announced to everyone. */
import { topicOf, type ChartSeries } from '../../../shared/index.js';
import { defined } from '../providers/items.js';
import type { StoreTx } from '../store/store.js';

export async function addChartPoints(tx: StoreTx, channel: string, series: string, unit: string | undefined, points: Array<[number, number]>, keep: number) {
  const { id, name } = await tx.portal.channel(channel);
  const storedUnit = await tx.portal.putChartPoints(id, series, unit, points, keep);
  const sorted = [...points].sort((a, b) => a[0] - b[0]);
  const result = defined<ChartSeries>({ channel: name, series, unit: storedUnit, points: sorted });
  await tx.append(topicOf.portal, { type: 'chart.points', ...result });
  return result;
}
