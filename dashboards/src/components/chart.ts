import { html } from 'htm/preact';
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface ChartSeries {
  label: string;
  color: string;
  /** Bars for counts per bucket; lines for levels over time. */
  bars?: boolean;
}

/**
 * A uPlot chart sized to its container. uPlot draws on a canvas and re-renders only data on
 * `setData`, so live updates (an event a second) do not rebuild the chart.
 */
export function Chart(props: {
  title: string;
  x: number[];
  ys: number[][];
  series: ChartSeries[];
  height?: number;
  xTime?: boolean;
  xLabel?: string;
  /** Category labels for x = 0, 1, 2… (a histogram's buckets) instead of numbers. */
  xLabels?: string[];
}) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const shape = `${props.series.map((s) => s.label).join('|')}:${props.xTime !== false}:${props.xLabels?.join('|') ?? ''}`;

  useEffect(() => {
    const el = box.current!;
    const bars = uPlot.paths.bars!({ size: [0.8, 40] });
    const labels = props.xLabels;
    const opts: uPlot.Options = {
      width: Math.max(240, el.clientWidth),
      height: props.height ?? 180,
      scales: { x: { time: props.xTime !== false && !props.xLabels, ...(labels ? { range: (): uPlot.Range.MinMax => [-0.5, labels.length - 0.5] } : {}) } },
      axes: [
        {
          stroke: 'currentColor',
          grid: { stroke: '#8883' },
          ...(props.xLabel ? { label: props.xLabel } : {}),
          ...(labels ? { splits: () => labels.map((_, i) => i), values: (_u: uPlot, splits: number[]) => splits.map((i) => labels[i] ?? '') } : {}),
        },
        { stroke: 'currentColor', grid: { stroke: '#8883' } },
      ],
      legend: { show: props.series.length > 1 },
      series: [{}, ...props.series.map((s) => ({ label: s.label, stroke: s.color, fill: s.bars ? `${s.color}cc` : `${s.color}22`, width: 2, ...(s.bars ? { paths: bars, points: { show: false } } : {}) }))],
    };
    plot.current = new uPlot(opts, [props.x, ...props.ys] as uPlot.AlignedData, el);
    const resize = new ResizeObserver(() => plot.current?.setSize({ width: Math.max(240, el.clientWidth), height: props.height ?? 180 }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
  }, [shape]);

  useEffect(() => {
    plot.current?.setData([props.x, ...props.ys] as uPlot.AlignedData);
  }, [props.x, props.ys]);

  return html`<figure class="chart" aria-label=${props.title}><figcaption>${props.title}</figcaption><div ref=${box}></div></figure>`;
}
