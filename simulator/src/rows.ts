/** A run's figures as bench rows `{name, value, unit, anchor, anchorValue, ratio, goal, met}`, goals from issue 11. */
import { percentile, type BenchRow } from './table.ts';
import type { FailoverCount, FaultKind } from './metrics.ts';
import type { SimulationResult } from './simulation.ts';

const row = (r: Partial<BenchRow> & Pick<BenchRow, 'name' | 'value' | 'unit'>): BenchRow => ({ anchor: null, anchorValue: null, ratio: null, goal: null, met: null, ...r });
const pct = (part: number, whole: number) => (whole > 0 ? (100 * part) / whole : Number.NaN);
const median = (a: Float64Array) => percentile(a, 50);
const FAULT_LABEL: Record<FaultKind, string> = { crashed: 'crashed (refusing)', blackholed: 'silent (blackholed)', overloaded: 'saturated (503)', relay: 'relaying (refused by the node it relays to)' };

export function scaleLabel(nodes: number): string {
  return nodes >= 1e6 ? `${nodes / 1e6}M` : nodes >= 1e3 ? `${Math.round(nodes / 1e3)}k` : `${nodes}`;
}

/** Utilisation from routed work: max and p99 over mean, over nodes that served at least once under either routing. */
export function balance(work: Float64Array, other: Float64Array, seconds: number) {
  const values: number[] = [];
  for (let i = 0; i < work.length; i++) if (work[i]! > 0 || other[i]! > 0) values.push(work[i]! / seconds);
  const sorted = Float64Array.from(values).sort();
  const mean = values.reduce((s, v) => s + v, 0) / Math.max(1, values.length);
  return { mean, max: sorted[sorted.length - 1] ?? 0, p99: percentile(sorted, 99), sorted };
}

export function simulationRows(r: SimulationResult): BenchRow[] {
  const { metrics: m, options: o } = r;
  const label = `@${scaleLabel(o.nodes)} ${o.hours}h`;
  const rows: BenchRow[] = [];
  const added = m.addedRatio.sorted();
  const perfect = m.perfectMs.sorted();
  const chosen = m.chosenMs.sorted();
  const medianAdded = 100 * median(added);
  rows.push(row({ name: `median added latency vs perfect knowledge ${label}`, value: medianAdded, unit: '%', anchor: 'perfect-knowledge choice', anchorValue: 0, goal: '≤5%', met: medianAdded <= 5 }));
  rows.push(row({ name: `p90 added latency vs perfect knowledge ${label}`, value: 100 * percentile(added, 90), unit: '%', anchor: 'perfect-knowledge choice', anchorValue: 0 }));
  rows.push(row({ name: `latency p50 (realised) ${label}`, value: median(chosen), unit: 'ms', anchor: 'perfect knowledge (expected)', anchorValue: median(perfect), ratio: median(perfect) / median(chosen) }));
  rows.push(row({ name: `latency p99 (realised) ${label}`, value: percentile(chosen, 99), unit: 'ms', anchor: 'perfect knowledge (expected)', anchorValue: percentile(perfect, 99), ratio: percentile(perfect, 99) / percentile(chosen, 99) }));
  const fibre = m.fibreMs.sorted();
  rows.push(row({ name: `light-in-fibre RTT to chosen node p50 ${label}`, value: median(fibre), unit: 'ms', anchor: 'realised latency p50', anchorValue: median(chosen), ratio: median(chosen) / Math.max(1e-9, median(fibre)) }));
  const stretch = m.networkStretch.sorted();
  rows.push(row({ name: `network stretch beyond the last mile p50 (nodes ≥100 km) ${label}`, value: median(stretch), unit: '×', anchor: 'placement ROUTE_STRETCH', anchorValue: 2 }));

  let reachable = 0;
  let within = 0;
  for (const [stream, s] of m.reachable) {
    reachable += s.reachable;
    within += s.within;
    rows.push(row({ name: `${stream} requests within target where reachable ${label}`, value: pct(s.within, s.reachable), unit: '%', anchor: 'reachable requests', anchorValue: s.reachable }));
  }
  const withinPct = pct(within, reachable);
  rows.push(row({ name: `requests within target where reachable ${label}`, value: withinPct, unit: '%', anchor: 'reachable requests', anchorValue: reachable, goal: '≥99%', met: withinPct >= 99 }));
  const withLive = m.served + m.unservedWithLiveNode;
  const servedPct = pct(m.served, withLive);
  rows.push(row({ name: `served when a live node held the model ${label}`, value: servedPct, unit: '%', anchor: 'requests with a live node', anchorValue: withLive, goal: '100%', met: m.unservedWithLiveNode === 0 }));
  rows.push(row({ name: `not served although a live node held the model ${label}`, value: m.unservedWithLiveNode, unit: 'requests', anchor: 'requests', anchorValue: m.requests }));
  for (const [kind, f] of Object.entries(m.failover) as Array<[FaultKind, FailoverCount]>) {
    // Relays exist only in adversary mode.
    if (kind === 'relay' && f.hit === 0) continue;
    const what = FAULT_LABEL[kind];
    rows.push(row({ name: `served within the deadline after the walk hit a ${what} node ${label}`, value: pct(f.served, f.hit), unit: '%', anchor: `requests whose walk hit a ${what} node`, anchorValue: f.hit }));
    for (const [series, which] of [[f.lostMs, 'not hedged'], [f.lostHedgedMs, 'hedged']] as const) {
      const lost = series.sorted();
      rows.push(row({ name: `time lost to a ${what} node p50 (served, ${which}) ${label}`, value: median(lost), unit: 'ms', anchor: 'p90', anchorValue: percentile(lost, 90) }));
    }
  }
  rows.push(row({ name: `hedged copies sent ${label}`, value: m.hedging.copies, unit: 'copies', anchor: 'requests asking to hedge', anchorValue: m.hedging.requests }));
  rows.push(row({ name: `hedged copies that answered first ${label}`, value: pct(m.hedging.won, m.hedging.copies), unit: '%', anchor: 'hedged copies sent', anchorValue: m.hedging.copies }));
  for (const [code, count] of [...m.unservedBy].sort()) {
    rows.push(row({ name: `unserved: ${code} ${label}`, value: count, unit: 'requests', anchor: 'requests', anchorValue: m.requests }));
  }

  const hourly = m.hourly;
  const last = hourly[hourly.length - 1];
  const lastShare = last ? pct(last.dishonest, last.served) : Number.NaN;
  const fullDay = o.hours >= 24;
  rows.push(row({ name: `dishonest nodes' traffic share, hour 1 ${label}`, value: hourly[0] ? pct(hourly[0].dishonest, hourly[0].served) : Number.NaN, unit: '%', anchor: 'dishonest share of nodes', anchorValue: 100 * o.mix.dishonestShare }));
  rows.push(row({ name: `dishonest nodes' traffic share, final hour ${label}`, value: lastShare, unit: '%', anchor: 'dishonest share of nodes', anchorValue: 100 * o.mix.dishonestShare, ratio: lastShare / (100 * o.mix.dishonestShare), goal: fullDay ? '<0.1% after 1 day' : null, met: fullDay ? lastShare < 0.1 : null }));
  rows.push(row({ name: `location liars' traffic share, final hour ${label}`, value: last ? pct(last.locationLiar, last.served) : Number.NaN, unit: '%', anchor: 'location-liar share of nodes', anchorValue: 100 * o.mix.locationLiarShare }));

  const seconds = (o.hours * 3600);
  const ours = balance(r.work.chosen, r.work.perfect, seconds);
  const theirs = balance(r.work.perfect, r.work.chosen, seconds);
  rows.push(row({ name: `load balance max/mean utilisation ${label}`, value: ours.max / ours.mean, unit: '×', anchor: 'perfect-knowledge routing', anchorValue: theirs.max / theirs.mean, ratio: theirs.max / theirs.mean / (ours.max / ours.mean) }));
  rows.push(row({ name: `load balance p99/mean utilisation ${label}`, value: ours.p99 / ours.mean, unit: '×', anchor: 'perfect-knowledge routing', anchorValue: theirs.p99 / theirs.mean, ratio: theirs.p99 / theirs.mean / (ours.p99 / ours.mean) }));
  rows.push(row({ name: `simulated requests/s of wall clock ${label}`, value: m.requests / (r.loopMs / 1000), unit: 'req/s', anchor: 'incl. setup', anchorValue: m.requests / ((r.loopMs + r.setupMs) / 1000) }));
  rows.push(row({ name: `sampled requests ${label}`, value: m.requests, unit: 'requests', anchor: 'real requests each stands for', anchorValue: r.weight }));
  rows.push(row({ name: `spot checks / frauds found ${label}`, value: r.spotChecks, unit: 'checks', anchor: 'frauds', anchorValue: r.frauds }));
  rows.push(row({ name: `registrations (signed) / load heartbeats ${label}`, value: r.registrations, unit: 'messages', anchor: 'heartbeats delivered', anchorValue: r.heartbeats }));
  return rows;
}
