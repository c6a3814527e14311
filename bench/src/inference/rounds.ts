/**
 * Interleaved measurement and the suite's row shape. Peers run one after another inside each round, in
 * an order that rotates every round, so a burst of load from the other tenants of a shared machine
 * hits all of them alike; figures are medians over rounds, with the spread kept beside them.
 */
import { summarize, type BenchRow } from '../report.ts';

/** A BenchRow plus the spread of the rounds behind it (written to the JSON, printed under the table). */
export interface InferenceRow extends BenchRow {
  spread?: { rounds: number; value: [number, number]; ratio: [number, number] | null };
}

export type Peers<K extends string> = Record<K, () => Promise<number>>;

/** Runs every peer once per round (first `warmUpRounds` discarded); returns each peer's samples. */
export async function interleave<K extends string>(options: { rounds: number; warmUpRounds?: number; peers: Peers<K> }): Promise<Record<K, number[]>> {
  const names = Object.keys(options.peers) as K[];
  const samples = Object.fromEntries(names.map((n) => [n, [] as number[]])) as Record<K, number[]>;
  const warmUp = options.warmUpRounds ?? 1;
  for (let r = 0; r < warmUp + options.rounds; r++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(i + r) % names.length]!;
      const value = await options.peers[name]();
      if (r >= warmUp) samples[name].push(value);
    }
  }
  return samples;
}

export const median = (samples: readonly number[]) => summarize([...samples]).median;

export interface Goal {
  text: string;
  met: (ratio: number, value: number) => boolean;
}

/**
 * A figure next to its peer, both from the same rounds. `better: 'higher'` (rates): ratio = value /
 * anchor; `better: 'lower'` (times): ratio = anchor / value, so a ratio above 1 always means "value wins".
 * Per-round ratios give the ratio's spread.
 */
export function pairRow(options: {
  name: string;
  unit: string;
  value: readonly number[];
  anchor: string;
  anchorValue: readonly number[];
  better: 'higher' | 'lower';
  goal?: Goal;
}): InferenceRow {
  const { value, anchorValue, better, goal } = options;
  const v = median(value);
  const a = median(anchorValue);
  const ratio = better === 'higher' ? v / a : a / v;
  const perRound = value.slice(0, anchorValue.length).map((x, i) => (better === 'higher' ? x / anchorValue[i]! : anchorValue[i]! / x));
  const r = summarize(perRound.length ? perRound : [ratio]);
  const s = summarize([...value]);
  return {
    name: options.name,
    value: v,
    unit: options.unit,
    anchor: options.anchor,
    anchorValue: a,
    ratio,
    goal: goal?.text ?? null,
    met: goal ? goal.met(ratio, v) : null,
    spread: { rounds: value.length, value: [s.min, s.max], ratio: [r.min, r.max] },
  };
}

/** A figure without a peer (context). */
export function soloRow(options: { name: string; unit: string; value: readonly number[]; goal?: Goal }): InferenceRow {
  const s = summarize([...options.value]);
  return {
    name: options.name,
    value: s.median,
    unit: options.unit,
    anchor: null,
    anchorValue: null,
    ratio: null,
    goal: options.goal?.text ?? null,
    met: options.goal ? options.goal.met(Number.NaN, s.median) : null,
    spread: { rounds: options.value.length, value: [s.min, s.max], ratio: null },
  };
}

const fmt = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toPrecision(3));

/** One line per row: the spread behind its median (formatTable shows medians only). */
export function formatSpread(rows: readonly InferenceRow[]): string {
  return rows
    .filter((r) => r.spread)
    .map((r) => {
      const s = r.spread!;
      const ratio = s.ratio ? `, ratio ${fmt(s.ratio[0])}–${fmt(s.ratio[1])}×` : '';
      return `  ${r.name}: ${fmt(s.value[0])}–${fmt(s.value[1])} ${r.unit}${ratio} (${s.rounds} rounds)`;
    })
    .join('\n');
}

/** Runs `fn` back to back for about `durationMs`; returns completed units per second. */
export async function ratePerS(durationMs: number, fn: () => Promise<number>): Promise<number> {
  let units = 0;
  const t0 = performance.now();
  let now = t0;
  do {
    units += await fn();
    now = performance.now();
  } while (now - t0 < durationMs);
  return units / ((now - t0) / 1000);
}

/** Times `count` calls of `fn`, one at a time; returns each call's milliseconds. */
export async function timeEach(count: number, fn: () => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    await fn();
    out.push(performance.now() - t0);
  }
  return out;
}
