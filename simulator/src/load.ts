/**
 * A node's background load: its share of the world's demand at its local solar hour (its popularity
 * × the streams' diurnal curves × the model mix it holds), and the expected queue wait plus service
 * time that load gives a request. Heartbeats report it; attempts and the perfect oracle use it.
 */
import { serviceMsOf, type SimNode } from './nodes.ts';
import { localSolarHour, MODELS, queueWaitMs, STREAMS, type ModelSpec } from './world.ts';

/** Weight of each model in the world's request mix (stream share × model share). */
const MODEL_MIX = new Map(
  MODELS.map((m) => [
    m.name,
    STREAMS.reduce((s, st) => s + st.weight * (st.models.find((x) => x.model === m.name)?.weight ?? 0), 0),
  ]),
);

/** Requests a second the world sends the node now: its popularity × the streams' diurnal curves at its hour. */
export function demandPerS(node: SimNode, o: { nowMs: number; worldRequestsPerNodePerS: number }): number {
  const h = localSolarHour(o.nowMs, node.trueLocation.lng);
  const activity = STREAMS.reduce((s, st) => s + st.weight * st.activity(h), 0);
  return o.worldRequestsPerNodePerS * node.popularity * activity;
}

/** Utilisation of the node's slots by background demand now (≥ 1: saturated). */
export function backgroundUtilisation(
  node: SimNode,
  o: { nowMs: number; worldRequestsPerNodePerS: number },
): number {
  let mixMs = 0;
  let mixWeight = 0;
  for (const m of MODELS) {
    if (!node.models.get(m.name)) continue;
    mixMs += MODEL_MIX.get(m.name)! * serviceMsOf(node, m);
    mixWeight += MODEL_MIX.get(m.name)!;
  }
  const meanServiceMs = mixWeight > 0 ? mixMs / mixWeight : 0;
  return (demandPerS(node, o) * meanServiceMs) / 1000 / node.slots;
}

/** Expected service + queue wait of `node` for `model` at this utilisation, ms (Infinity when saturated). */
export function expectedLatencyMs(node: SimNode, o: { model: ModelSpec; utilisation: number }): number {
  const s = serviceMsOf(node, o.model);
  return s + queueWaitMs({ serviceMs: s, utilisation: o.utilisation, slots: node.slots });
}
