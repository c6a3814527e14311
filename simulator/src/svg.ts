/** Minimal SVG charts (no dependency): line charts with optional log x axis, and histograms. */
export interface LineSeries {
  label: string;
  colour: string;
  points: Array<{ x: number; y: number }>;
}

const W = 720;
const H = 420;
const M = { left: 64, right: 24, top: 40, bottom: 56 };
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
const fmt = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(1) : v.toPrecision(2));

function frame(o: { title: string; xLabel: string; yLabel: string; xTicks: Array<{ at: number; label: string }>; yTicks: Array<{ at: number; label: string }> }, body: string): string {
  const ticks = [
    ...o.xTicks.map((t) => `<line x1="${t.at}" y1="${H - M.bottom}" x2="${t.at}" y2="${M.top}" stroke="#eee"/><text x="${t.at}" y="${H - M.bottom + 18}" text-anchor="middle">${esc(t.label)}</text>`),
    ...o.yTicks.map((t) => `<line x1="${M.left}" y1="${t.at}" x2="${W - M.right}" y2="${t.at}" stroke="#eee"/><text x="${M.left - 6}" y="${t.at + 4}" text-anchor="end">${esc(t.label)}</text>`),
  ].join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">
<rect width="${W}" height="${H}" fill="white"/>
<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">${esc(o.title)}</text>
${ticks}
<rect x="${M.left}" y="${M.top}" width="${W - M.left - M.right}" height="${H - M.top - M.bottom}" fill="none" stroke="#888"/>
<text x="${W / 2}" y="${H - 14}" text-anchor="middle">${esc(o.xLabel)}</text>
<text transform="translate(16 ${H / 2}) rotate(-90)" text-anchor="middle">${esc(o.yLabel)}</text>
${body}
</svg>
`;
}

export function lineChart(o: { title: string; xLabel: string; yLabel: string; series: LineSeries[]; logX?: boolean; yMax?: number }): string {
  const tx = (x: number) => (o.logX ? Math.log10(Math.max(x, 1e-3)) : x);
  const all = o.series.flatMap((s) => s.points);
  const xs = all.map((p) => tx(p.x));
  const x0 = Math.min(...xs);
  const x1 = Math.max(...xs, x0 + 1e-9);
  const y1 = o.yMax ?? Math.max(...all.map((p) => p.y), 1e-9);
  const px = (x: number) => M.left + ((tx(x) - x0) / (x1 - x0)) * (W - M.left - M.right);
  const py = (y: number) => H - M.bottom - (Math.min(y, y1) / y1) * (H - M.top - M.bottom);
  const xTicks = Array.from({ length: 6 }, (_, i) => {
    const v = x0 + ((x1 - x0) * i) / 5;
    return { at: M.left + (i / 5) * (W - M.left - M.right), label: fmt(o.logX ? 10 ** v : v) };
  });
  const yTicks = Array.from({ length: 5 }, (_, i) => ({ at: py((y1 * i) / 4), label: fmt((y1 * i) / 4) }));
  const lines = o.series
    .map((s, i) => {
      const d = s.points.map((p, j) => `${j ? 'L' : 'M'}${px(p.x).toFixed(1)},${py(p.y).toFixed(1)}`).join('');
      return `<path d="${d}" fill="none" stroke="${s.colour}" stroke-width="2"/><rect x="${M.left + 12}" y="${M.top + 10 + i * 18}" width="14" height="4" fill="${s.colour}"/><text x="${M.left + 32}" y="${M.top + 16 + i * 18}">${esc(s.label)}</text>`;
    })
    .join('\n');
  return frame({ title: o.title, xLabel: o.xLabel, yLabel: o.yLabel, xTicks, yTicks }, lines);
}

export function histogram(o: { title: string; xLabel: string; yLabel: string; bins: Array<{ from: number; to: number; count: number }>; colour: string }): string {
  const maxCount = Math.max(...o.bins.map((b) => b.count), 1);
  const plotW = W - M.left - M.right;
  const barW = plotW / o.bins.length;
  const py = (c: number) => H - M.bottom - (c / maxCount) * (H - M.top - M.bottom);
  const bars = o.bins.map((b, i) => `<rect x="${(M.left + i * barW + 1).toFixed(1)}" y="${py(b.count).toFixed(1)}" width="${(barW - 2).toFixed(1)}" height="${(H - M.bottom - py(b.count)).toFixed(1)}" fill="${o.colour}"><title>${fmt(b.from)}–${fmt(b.to)}: ${b.count}</title></rect>`).join('');
  const step = Math.max(1, Math.floor(o.bins.length / 6));
  const xTicks = o.bins.filter((_, i) => i % step === 0).map((b) => ({ at: M.left + (o.bins.indexOf(b) * plotW) / o.bins.length, label: fmt(b.from) }));
  const yTicks = Array.from({ length: 5 }, (_, i) => ({ at: py((maxCount * i) / 4), label: fmt((maxCount * i) / 4) }));
  return frame({ title: o.title, xLabel: o.xLabel, yLabel: o.yLabel, xTicks, yTicks }, bars);
}
