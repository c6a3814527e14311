// What Placement's composition root (the Node gateway, a Worker shard, a test) chooses: clock, store,
// randomness and the admission limits. Apart from the class so the choices read in one place.
import type { NodeRegistryOptions } from './node-registry.ts';
import type { NodeStore } from './node-store.ts';
import type { RandomSource } from './random.ts';

export interface PlacementOptions {
  heartbeatIntervalMs: number;
  now?: () => number;
  /** Durable registry, trust and demand; restored at construction. Default: memory only. */
  store?: NodeStore;
  /** Uniform [0, 1) source for power-of-two-choices and probation; seed it in tests. */
  random?: RandomSource;
  /** Treat claimed locations as verified (no coverage oracle, e.g. `hexedge dev`). Default false. */
  assumeLocationsVerified?: boolean;
  /** Per-node admission of signed messages before they are written (the gateway's rate limits); see NodeRegistryOptions. */
  admit?: NodeRegistryOptions['admit'];
  /** Eligibility checks per request's pool (default MAX_ELIGIBILITY_CHECKS; Infinity in reference tests). */
  maxEligibilityChecks?: number;
  /**
   * Registered nodes on probation (no oracle score yet) kept at most; a new one past it is refused
   * with OVERLOADED (probation-cap.ts). Default: no cap (the gateway's config sets one).
   */
  maxProbationNodes?: number;
  /** The setting `maxProbationNodes` comes from, as refusals name it (default `maxProbationNodes`). */
  probationLimitName?: string;
  /** Called after a probation node was evicted to make room for a newcomer (the Worker's shards clear its directory entry). */
  onEvictedForRoom?: (nodeId: string) => void;
}
