/**
 * Adversary mode end to end: the run with sybils, the same run without them (the same honest nodes,
 * requests and seed), and the 1 % cheater detection measured with the oracle's sampling function.
 */
import { simulate, type SimulationOptions, type SimulationResult } from '../simulation.ts';
import { childSeed, createRng } from '../random.ts';
import type { NodeMix } from '../nodes.ts';
import type { AdversaryOptions } from './adversary-world.ts';
import { measureDetection, type DetectionResult } from './detection.ts';

/** Honest nodes are honest: the liars of this mode are the sybils. */
export const HONEST_MIX: NodeMix = { gpuShare: 0.2, dishonestShare: 0, locationLiarShare: 0 };
/** The PoSP example of SECURITY.md: a node serving 10 000 requests an epoch. */
export const SMALL_NODE_REQUESTS_PER_EPOCH = 10_000;

export interface AdversarySimOptions extends Pick<
  SimulationOptions,
  'nodes' | 'hours' | 'seed' | 'sampledRequests' | 'worldRequestsPerNodePerS' | 'onProgress'
> {
  /** Share of identities that are sybils (default 0.3). */
  share?: number;
  adversary?: Omit<AdversaryOptions, 'share'>;
  /** Synthetic 1 % cheaters measured per request rate (default 2000). */
  detectionCheaters?: number;
}

export interface AdversaryReport {
  options: Required<Pick<AdversarySimOptions, 'nodes' | 'hours' | 'seed' | 'sampledRequests' | 'share'>> &
    Omit<AdversarySimOptions, 'onProgress'>;
  adversarial: SimulationResult;
  baseline: SimulationResult;
  /** At the world's mean requests per node per epoch, at SMALL_NODE_REQUESTS_PER_EPOCH, and a guessing cheater at the world's mean. */
  detection: DetectionResult[];
  wallMs: { adversarial: number; baseline: number; detection: number };
}

export async function simulateAdversaries(o: AdversarySimOptions): Promise<AdversaryReport> {
  const share = o.share ?? 0.3;
  const { onProgress, ...rest } = o;
  const common = { ...rest, mix: HONEST_MIX, ...(onProgress ? { onProgress } : {}) };
  // The oracle's shipped defaults (parseOracleConfig({})) unless adversary.oracleConfig overrides keys:
  // they are issue 16's goal configuration, so the rows measure what production runs (SECURITY.md).
  const adversary = { ...o.adversary };
  let t = performance.now();
  const adversarial = await simulate({ ...common, adversaries: { ...adversary, share } });
  const adversarialMs = performance.now() - t;
  t = performance.now();
  const baseline = await simulate({
    ...common,
    nodes: adversarial.honestNodes,
    adversaries: { ...adversary, share: 0 },
  });
  const baselineMs = performance.now() - t;

  t = performance.now();
  const world = adversarial.adversary!;
  const byId = new Map(adversarial.nodes.map((n) => [n.id, n]));
  const isAttacker = (id: string) => byId.get(id)?.role !== undefined;
  const rand = createRng(childSeed(o.seed, 'detection'));
  const cheaters = o.detectionCheaters ?? 2000;
  const worldRate = adversarial.options.worldRequestsPerNodePerS;
  const detection: DetectionResult[] = [];
  const worldPerEpoch = Math.round((worldRate * world.oracle.config.epochMs) / 1000);
  for (const requestsPerEpoch of [worldPerEpoch, SMALL_NODE_REQUESTS_PER_EPOCH])
    detection.push(await measureDetection(world.oracle, { cheaters, requestsPerEpoch, rand, isAttacker }));
  detection.push(
    await measureDetection(world.oracle, {
      cheaters,
      requestsPerEpoch: worldPerEpoch,
      rand,
      isAttacker,
      guess: true,
    }),
  );
  return {
    options: {
      ...rest,
      share,
      nodes: o.nodes,
      hours: o.hours,
      seed: o.seed,
      sampledRequests: o.sampledRequests,
    },
    adversarial,
    baseline,
    detection,
    wallMs: { adversarial: adversarialMs, baseline: baselineMs, detection: performance.now() - t },
  };
}
