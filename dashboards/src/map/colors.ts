/** The map's colourings, in the order the switch shows them. */
export const METRICS = [
  { id: 'coverage', label: 'Coverage', unit: '', help: 'a healthy node serves this hex (the oracle’s radio coverage map replaces this once it runs)' },
  { id: 'density', label: 'Node density', unit: 'nodes', help: 'nodes registered in this hex' },
  { id: 'trust', label: 'Trust', unit: '', help: 'mean oracle trust score of the scored nodes' },
  { id: 'demand', label: 'Demand', unit: 'requests', help: 'inference requests from this hex, last 15 minutes' },
  { id: 'latency', label: 'p50 latency', unit: 'ms', help: 'median end-to-end latency of requests from this hex, last 15 minutes' },
] as const;
export type MetricId = (typeof METRICS)[number]['id'];

/** Colour for "no value for this metric here": shown, but clearly not a low value. */
export const NO_DATA_COLOR = '#9aa3ad';

/** Linear interpolation between two #rrggbb colours. */
function mix(a: string, b: string, t: number): string {
  const pa = [1, 3, 5].map((i) => parseInt(a.slice(i, i + 2), 16));
  const pb = [1, 3, 5].map((i) => parseInt(b.slice(i, i + 2), 16));
  const c = pa.map((v, i) => Math.round(v + (pb[i]! - v) * Math.max(0, Math.min(1, t))));
  return `#${c.map((v) => v.toString(16).padStart(2, '0')).join('')}`;
}

/** Three-stop ramps chosen to stay distinguishable for common colour-vision deficiencies (viridis-like). */
const RAMP = ['#fde725', '#21918c', '#440154'];
const ramp = (t: number, stops = RAMP) => (t < 0.5 ? mix(stops[0]!, stops[1]!, t * 2) : mix(stops[1]!, stops[2]!, (t - 0.5) * 2));

/** Latency that reads as "slow" for an edge API; the scale saturates there. */
export const LATENCY_SCALE_MS = 250;

export interface Scale {
  color: (value: number | null) => string;
  /** Legend stops: label and colour. */
  legend: { label: string; color: string }[];
}

/** The colour scale for a metric, given the largest value on screen (for counts). */
export function scaleFor(metric: MetricId, maxValue: number): Scale {
  const none = { label: 'no data', color: NO_DATA_COLOR };
  switch (metric) {
    case 'coverage':
      return { color: (v) => (v === null ? NO_DATA_COLOR : v > 0 ? '#1f9e89' : '#e4572e'), legend: [{ label: 'covered', color: '#1f9e89' }, { label: 'requests, no healthy node', color: '#e4572e' }] };
    case 'trust':
      return {
        color: (v) => (v === null ? NO_DATA_COLOR : ramp(1 - v, ['#1a9850', '#fee08b', '#d73027'])),
        legend: [{ label: '1.0', color: '#1a9850' }, { label: '0.5', color: '#fee08b' }, { label: '0.0', color: '#d73027' }, { label: 'unscored (probation)', color: NO_DATA_COLOR }],
      };
    case 'latency':
      return {
        color: (v) => (v === null ? NO_DATA_COLOR : ramp(v / LATENCY_SCALE_MS, ['#1a9850', '#fee08b', '#d73027'])),
        legend: [{ label: '0 ms', color: '#1a9850' }, { label: `${LATENCY_SCALE_MS / 2} ms`, color: '#fee08b' }, { label: `≥ ${LATENCY_SCALE_MS} ms`, color: '#d73027' }, none],
      };
    default: {
      // Counts span orders of magnitude (one node vs a city of them): a log scale keeps both visible.
      const max = Math.max(1, maxValue);
      const t = (v: number) => Math.log1p(v) / Math.log1p(max);
      return {
        color: (v) => (v === null || v === 0 ? NO_DATA_COLOR : ramp(t(v))),
        legend: [{ label: '1', color: ramp(t(1)) }, { label: String(max), color: ramp(1) }, { label: 'none', color: NO_DATA_COLOR }],
      };
    }
  }
}
