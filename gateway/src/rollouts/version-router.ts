import { stableUnit } from '@hexedge/placement';
import type { InferRequest, InferResponse } from '@hexedge/protocol';
import type { Caller } from '../infer/infer-ports.ts';
import type { CanaryDimension, Rollout } from './rollout-spec.ts';

/**
 * The hook between the gateway's one inference path and rollouts: `InferService` hands each request
 * (validated, authorised) to a `VersionRouter` with a `place` function that runs it on a version; the
 * router decides which (version policy, canary) and may run it a second time as a mirror. Without a
 * router, `place()` runs the request as it came.
 */
export interface PlaceOptions {
  /** The version to run on; the request's own (or any) when absent. */
  version?: string;
  /** Failover candidates for which this is true are not tried (a mirror avoids the node that answered). */
  skip?: (candidate: { nodeId: string; version: string }) => boolean;
  /**
   * A mirrored copy: a fresh request id, this deadline from now, no hedging; not counted as the
   * caller's inference, never handed to `onAnswered`, and its answer goes only to the router.
   */
  mirror?: { deadlineMs: number };
}

export type PlaceFn = (options?: PlaceOptions) => Promise<InferResponse>;

export interface VersionRouter {
  route(o: {
    request: InferRequest;
    caller: Caller;
    place: PlaceFn;
    /** True while the gateway is busy (half its in-flight bound used): optional work such as mirrors is shed. */
    busy: () => boolean;
  }): Promise<InferResponse>;
}

/**
 * The principal a canary is sticky on: the API key (for MQTT, the `mqtt:{clientId}` caller), the
 * device (its id where the caller is a device — an MQTT client or a LoRaWAN device through the
 * bridge — else the key), or the device's fleet (only devices the registry knows have one).
 */
export function principalOf(caller: Caller, by: CanaryDimension): string | undefined {
  if (by === 'key') return caller.id;
  if (by === 'device') return caller.device?.id ?? caller.id;
  return caller.device?.fleet;
}

/**
 * Whether a caller is in a rollout's canary: named in `include`, or among the first `percent` of
 * principals by a stable hash of (rollout id, principal). The same caller gets the same answer on
 * every request, gateway and restart of one rollout; another rollout draws another cohort. A caller
 * without a principal of that kind (no fleet) stays on the baseline.
 */
export function inCanary(rollout: Pick<Rollout, 'id' | 'canary'>, caller: Caller): boolean {
  const principal = principalOf(caller, rollout.canary.by);
  if (principal === undefined) return false;
  if (rollout.canary.include.includes(principal)) return true;
  return stableUnit(`${rollout.id}\u0000${principal}`) * 100 < rollout.canary.percent;
}
