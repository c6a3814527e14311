import {
  isHexEdgeError,
  maxAbsDifference,
  normaliseTensors,
  type InferRequest,
  type InferResponse,
  type Tensor,
} from '@hexedge/protocol';
import type { Caller } from '../infer/infer-ports.ts';
import type { Rollout } from './rollout-spec.ts';
import { inCanary, type PlaceFn, type PlaceOptions } from './version-router.ts';
import { VersionWindow } from './version-window.ts';

export type Role = 'candidate' | 'baseline';
export type Source = 'primary' | 'mirror';

/** Codes that say the version (its nodes) failed the request: they count in its error rate. */
const VERSION_FAULTS = new Set(['NODE_FAILED', 'RECEIPT_INVALID', 'DEADLINE_EXCEEDED']);
/** Codes after which a canary request is run again on the baseline, so a canary's caller still gets an answer. */
const FALL_BACK_ON = new Set([
  'NODE_FAILED',
  'RECEIPT_INVALID',
  'NO_NODE_AVAILABLE',
  'MODEL_NOT_READY',
  'INVALID_TENSOR',
  'INVALID_REQUEST',
]);
/** A request the gateway refused for the candidate's manifest but that the baseline took: the candidate is incompatible. */
const REFUSED_BY_MANIFEST = new Set(['INVALID_TENSOR', 'INVALID_REQUEST']);

/** Counts kept per running rollout for metrics and the dashboard (monotonic since the gateway started). */
export interface RolloutCounters {
  /** `${role} ${source} ${ok|error}` → answers. */
  answers: Map<string, number>;
  agreed: number;
  diverged: number;
  /** Mirrors not sent: the rollout's mirror bound was reached or the gateway was busy. */
  mirrorsShed: number;
  /** Canary requests answered by the baseline after the candidate failed or had no node. */
  fallbacks: number;
  /** Requests for a version no node could serve yet (nodes still pulling it): not counted against it. */
  unavailable: number;
  /** `${role} ${error code}` → failures counted against a version (what an operator reads first). */
  errorCodes: Map<string, number>;
}

/** A running rollout's live state: its record, the two versions' windows, mirrors in flight, counters. */
export interface LiveRollout {
  rollout: Rollout;
  windows: Record<Role, VersionWindow>;
  mirrorsInFlight: number;
  counters: RolloutCounters;
}

export function newLiveRollout(rollout: Rollout): LiveRollout {
  return {
    rollout,
    windows: { candidate: new VersionWindow(), baseline: new VersionWindow() },
    mirrorsInFlight: 0,
    counters: {
      answers: new Map(),
      agreed: 0,
      diverged: 0,
      mirrorsShed: 0,
      fallbacks: 0,
      unavailable: 0,
      errorCodes: new Map(),
    },
  };
}

/** What a comparison looks at: tensors (name-sorted plain JSON) or a pipeline's domain output. */
const comparable = (r: InferResponse): unknown =>
  r.outputs ? normaliseTensors(r.outputs as unknown as Tensor[]) : r.output;

export interface TrafficContext {
  live: LiveRollout;
  request: InferRequest;
  caller: Caller;
  place: PlaceFn;
  busy: () => boolean;
  now: () => number;
  random: () => number;
  /** Largest difference that still agrees (the catalogue's tolerance for these versions, or the rollout's own). */
  tolerance: number;
  /** The candidate answered (first time: the rollout's regression clock starts). */
  onCandidateAnswered: () => void;
  log: (message: string) => void;
}

/**
 * One request through a running rollout: a caller in the canary is served by the candidate (falling
 * back to the baseline when the candidate fails or has no node yet, counted against it), everyone
 * else by the baseline. Then, for a share of requests, a mirror runs the same input on the other
 * version on another node, in the background, and the two outputs are compared; the caller's answer
 * is returned before the mirror starts and the mirror's answer goes nowhere else.
 */
export async function routeThroughRollout(t: TrafficContext): Promise<InferResponse> {
  const { rollout } = t.live;
  let response: InferResponse;
  if (inCanary(rollout, t.caller)) {
    try {
      response = await runOn(t, 'candidate', 'primary', {});
    } catch (err) {
      if (!isHexEdgeError(err) || !FALL_BACK_ON.has(err.code)) throw err;
      t.live.counters.fallbacks++;
      response = await runOn(t, 'baseline', 'primary', {});
      if (REFUSED_BY_MANIFEST.has(err.code))
        record(t, { role: 'candidate', source: 'primary', ok: false, latencyMs: 0, code: err.code });
    }
  } else {
    response = await runOn(t, 'baseline', 'primary', {});
  }
  mirror(t, response);
  return response;
}

async function runOn(
  t: TrafficContext,
  role: Role,
  source: Source,
  options: PlaceOptions,
): Promise<InferResponse> {
  const version = role === 'candidate' ? t.live.rollout.candidate : t.live.rollout.baseline;
  const started = t.now();
  try {
    const response = await t.place({ ...options, version });
    record(t, { role, source, ok: true, latencyMs: t.now() - started });
    return response;
  } catch (err) {
    if (isHexEdgeError(err) && VERSION_FAULTS.has(err.code))
      record(t, { role, source, ok: false, latencyMs: t.now() - started, code: err.code });
    else if (isHexEdgeError(err) && err.code === 'NO_NODE_AVAILABLE') {
      // No node for the version: its nodes may still be pulling it, or be briefly unhealthy (a gateway
      // restart, a missed heartbeat): not the version's fault. But when its last run failed, its nodes
      // are most likely off the lists because of those failures (open circuits): still failing.
      if (t.live.windows[role].lastOk === false)
        record(t, { role, source, ok: false, latencyMs: t.now() - started, code: err.code });
      else t.live.counters.unavailable++;
    }
    throw err;
  }
}

function record(
  t: TrafficContext,
  o: { role: Role; source: Source; ok: boolean; latencyMs: number; code?: string },
): void {
  t.live.windows[o.role].answered({
    atMs: t.now(),
    latencyMs: o.latencyMs,
    ok: o.ok,
    mirror: o.source === 'mirror',
  });
  const { answers, errorCodes } = t.live.counters;
  const key = `${o.role} ${o.source} ${o.ok ? 'ok' : 'error'}`;
  answers.set(key, (answers.get(key) ?? 0) + 1);
  if (o.code) errorCodes.set(`${o.role} ${o.code}`, (errorCodes.get(`${o.role} ${o.code}`) ?? 0) + 1);
  if (o.role === 'candidate') t.onCandidateAnswered();
}

/**
 * Mirrors a share of answered requests to the other version. Bounded so it cannot starve real
 * traffic: at most `shadow.maxInFlight` at once per rollout and none while the gateway is busy (shed,
 * counted, never queued), each with its own short deadline, on a node other than the one that answered.
 */
function mirror(t: TrafficContext, response: InferResponse): void {
  const { rollout, counters } = t.live;
  if (rollout.shadow.percent <= 0 || t.random() * 100 >= rollout.shadow.percent) return;
  const served: Role | undefined =
    response.model_version === rollout.candidate
      ? 'candidate'
      : response.model_version === rollout.baseline
        ? 'baseline'
        : undefined;
  if (!served) return;
  if (t.busy() || t.live.mirrorsInFlight >= rollout.shadow.maxInFlight) {
    counters.mirrorsShed++;
    return;
  }
  t.live.mirrorsInFlight++;
  const other: Role = served === 'candidate' ? 'baseline' : 'candidate';
  void runOn(t, other, 'mirror', {
    skip: (c) => c.nodeId === response.node.id,
    mirror: { deadlineMs: rollout.shadow.deadlineMs },
  })
    .then((mirrored) => {
      const difference = maxAbsDifference(comparable(response), comparable(mirrored));
      const diverged = !(difference <= t.tolerance);
      t.live.windows.candidate.compared({ atMs: t.now(), diverged, difference });
      if (diverged) counters.diverged++;
      else counters.agreed++;
    })
    .catch((err: unknown) => {
      // Already counted against its version where it was the version's fault; nothing reaches the caller.
      if (!isHexEdgeError(err)) t.log(`rollout ${rollout.id}: mirror failed: ${String(err)}`);
    })
    .finally(() => t.live.mirrorsInFlight--);
}
