/**
 * The limit routing is judged against: an oracle that knows every node's true location, state and
 * load picks, per request, the live honest node serving the model with the lowest expected latency
 * under the same latency model. Exact: nodes are binned by service time, and each bin is searched
 * outwards only as far as its round trip plus its fastest service time can still beat the best found.
 */
import { maxDistanceKmForRttMs, NodeIndex } from '@hexedge/placement';
import type { LatLng } from '@hexedge/protocol';
import type { SimNode } from './nodes.ts';
import { expectedRttMs, JITTER_MEAN_MS, MODELS, type ModelSpec } from './world.ts';

const FIRST_LOOK = 16;
/** Upper edges of the service-time bins, as multiples of the model's typical service time. */
const BIN_EDGES = [0.5, 0.65, 0.8, 0.9, 1, 1.15, 1.3, 1.6, 2, 4, Infinity];

export interface PerfectChoice {
  node: SimNode;
  expectedMs: number;
  distanceKm: number;
}

interface Bin {
  index: NodeIndex<{ id: string; lat: number; lng: number; node: SimNode }>;
  fastestMs: number;
}

export class PerfectOracle {
  readonly #bins = new Map<string, Bin[]>();
  readonly #binOf = new Map<string, Map<string, number>>();

  constructor() {
    for (const m of MODELS) {
      this.#bins.set(m.name, BIN_EDGES.map(() => ({ index: new NodeIndex(), fastestMs: Infinity })));
      this.#binOf.set(m.name, new Map());
    }
  }

  /** Keeps the per-model bins in step with what the node holds ready (call after any model change). */
  update(node: SimNode, o: { serviceMs: (m: ModelSpec) => number }): void {
    for (const m of MODELS) {
      const bins = this.#bins.get(m.name)!;
      const binOf = this.#binOf.get(m.name)!;
      const previous = binOf.get(node.id);
      if (previous !== undefined) bins[previous]!.index.remove(node.id);
      binOf.delete(node.id);
      if (node.models.get(m.name) !== true || node.state === 'left' || node.lieRate > 0) continue;
      const serviceMs = o.serviceMs(m);
      const typicalMs = node.gpu ? m.gpuServiceMs : m.cpuServiceMs;
      const b = BIN_EDGES.findIndex((edge) => serviceMs < edge * typicalMs);
      bins[b]!.index.upsert({ id: node.id, ...node.trueLocation, node });
      bins[b]!.fastestMs = Math.min(bins[b]!.fastestMs, serviceMs);
      binOf.set(node.id, b);
    }
  }

  best(o: { at: LatLng; model: ModelSpec; latencyOf: (node: SimNode) => number }): PerfectChoice | undefined {
    let best: PerfectChoice | undefined;
    const live = (p: { node: SimNode }) => p.node.state === 'up';
    for (const bin of [...this.#bins.get(o.model.name)!].sort((a, b) => a.fastestMs - b.fastestMs)) {
      if (bin.index.size === 0) continue;
      for (let k = FIRST_LOOK; ; k *= 4) {
        // A node of this bin can still win only nearer than where its round trip plus the bin's fastest service reaches the best.
        const radiusKm = best ? maxDistanceKmForRttMs(best.expectedMs - bin.fastestMs - JITTER_MEAN_MS) : Infinity;
        if (radiusKm <= 0) break;
        const near = bin.index.nearest({ ...o.at, k, maxDistanceKm: radiusKm, filter: live });
        for (const { id, distanceKm } of near) {
          const node = bin.index.get(id)!.node;
          const expectedMs = expectedRttMs(distanceKm) + o.latencyOf(node);
          if (!best || expectedMs < best.expectedMs || (expectedMs === best.expectedMs && node.index < best.node.index)) best = { node, expectedMs, distanceKm };
        }
        if (near.length < k) break;
      }
    }
    return best;
  }
}
