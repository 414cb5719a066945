/** A chart series drawn with uPlot; new points (chart.points events) are appended as they come. */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import type { ChartSeries } from '../api/index.js';
import { language } from '../i18n.js';

const HEIGHT = 150;

const toData = (points: Array<[number, number]>): uPlot.AlignedData => [points.map((p) => p[0] / 1000), points.map((p) => p[1])];

export function Chart({ series }: { series: ChartSeries }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | undefined>(undefined);
  const key = `${series.channel}/${series.series}`;

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const styles = getComputedStyle(el);
    const ink = styles.getPropertyValue('--chart-ink').trim() || '#1f5f8b';
    const grid = styles.getPropertyValue('--chart-grid').trim() || 'rgba(0,0,0,0.08)';
    const text = styles.getPropertyValue('--text-muted').trim() || '#555';
    const opts: uPlot.Options = {
      width: Math.max(120, el.clientWidth),
      height: HEIGHT,
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true } },
      series: [{}, { label: series.series, stroke: ink, width: 2, fill: `${ink}22`, points: { show: false } }],
      axes: [
        { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid }, font: '11px system-ui, sans-serif', size: 28 },
        { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid }, font: '11px system-ui, sans-serif', size: 46 },
      ],
    };
    const u = new uPlot(opts, toData(series.points), el);
    plot.current = u;
    const observer = new ResizeObserver(() => {
      const width = Math.max(120, el.clientWidth);
      if (width !== u.width) u.setSize({ width, height: HEIGHT });
    });
    observer.observe(el);
    return () => {
      observer.disconnect();
      u.destroy();
      plot.current = undefined;
    };
    // A new plot only for another series; new points go through setData below.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);

  useEffect(() => {
    plot.current?.setData(toData(series.points));
  }, [series.points]);

  const last = series.points[series.points.length - 1];
  const fmt = new Intl.NumberFormat(language() === 'ja' ? 'ja-JP' : undefined, { maximumFractionDigits: 4 });
  const summary = last ? `${series.series}: ${fmt.format(last[1])}${series.unit ? ` ${series.unit}` : ''}` : series.series;
  return (
    <figure class="chart" data-series={series.series}>
      <div class="chart-plot" ref={box} role="img" aria-label={summary} />
      <figcaption class="chart-last">{summary}</figcaption>
    </figure>
  );
}
