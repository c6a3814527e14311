/** The run's plots, written as SVG next to the results: latency CDF, dishonest traffic share over time, utilisation histogram. */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { percentile } from './table.ts';
import { balance } from './rows.ts';
import type { SimulationResult } from './simulation.ts';
import { histogram, lineChart } from './svg.ts';

const cdf = (sorted: Float64Array) => Array.from({ length: 201 }, (_, i) => ({ x: Math.max(percentile(sorted, i / 2), 1e-3), y: i / 2 }));

export function writePlots(r: SimulationResult, o: { dir: string; prefix: string }): string[] {
  mkdirSync(o.dir, { recursive: true });
  const files: string[] = [];
  const write = (name: string, svg: string) => {
    const file = path.join(o.dir, `${o.prefix}-${name}.svg`);
    writeFileSync(file, svg);
    files.push(file);
  };
  const { metrics: m } = r;
  const title = `${r.options.nodes.toLocaleString('en')} nodes, ${r.options.hours} h, seed ${r.options.seed}`;
  write(
    'latency-cdf',
    lineChart({
      title: `Request latency CDF — ${title}`,
      xLabel: 'latency, ms (log scale)',
      yLabel: 'share of served requests, %',
      logX: true,
      yMax: 100,
      series: [
        { label: 'chosen by placement (realised, incl. failover)', colour: '#d62728', points: cdf(m.chosenMs.sorted()) },
        { label: 'perfect-knowledge choice (expected)', colour: '#1f77b4', points: cdf(m.perfectMs.sorted()) },
        { label: 'physical minimum: light in fibre to the chosen node and back', colour: '#2ca02c', points: cdf(m.fibreMs.sorted()) },
      ],
    }),
  );
  const share = (f: (h: (typeof m.hourly)[number]) => number) => m.hourly.map((h, i) => ({ x: i + 1, y: h.served ? (100 * f(h)) / h.served : 0 }));
  write(
    'dishonest-share',
    lineChart({
      title: `Traffic served by lying nodes, per simulated hour — ${title}`,
      xLabel: 'simulated hour',
      yLabel: 'share of served requests, %',
      series: [
        { label: `nodes faking results (${100 * r.options.mix.dishonestShare}% of nodes)`, colour: '#d62728', points: share((h) => h.dishonest) },
        { label: `nodes lying about location (${100 * r.options.mix.locationLiarShare}% of nodes)`, colour: '#ff7f0e', points: share((h) => h.locationLiar) },
        { label: 'goal after one day: 0.1%', colour: '#999', points: m.hourly.map((_, i) => ({ x: i + 1, y: 0.1 })) },
      ],
    }),
  );
  const util = balance(r.work.chosen, r.work.perfect, r.options.hours * 3600).sorted;
  const top = Math.max(percentile(util, 99.9), 1e-9);
  const bins = Array.from({ length: 40 }, (_, i) => ({ from: (100 * top * i) / 40, to: (100 * top * (i + 1)) / 40, count: 0 }));
  for (const u of util) bins[Math.min(39, Math.floor((u / top) * 40))]!.count++;
  write('utilisation', histogram({ title: `Node utilisation from routed requests (≤ p99.9) — ${title}`, xLabel: 'utilisation of the node’s slots by routed requests, %', yLabel: 'nodes', bins, colour: '#1f77b4' }));
  return files;
}
