/**
 * How a simulated node answers one attempt of the gateway's walk, on the simulated clock. The walk
 * itself is the gateway's (`walkFailoverList`); this is the other end of the wire, standing in for
 * `InferService`'s attempt (HTTP post, status check, receipt check) and the node:
 * - up: answers after the round trip, its queue wait and a service time drawn around its mean;
 * - saturated (its queue wait is unbounded): answers 503 after a round trip, a node fault;
 * - crashed, or gone: the connection is refused after a round trip (a TCP reset), a node fault;
 * - blackholed (silent: power or network gone, SYNs dropped): nothing comes back; the HTTP client
 *   gives up after its connect timeout, unless the walk's attempt timeout or deadline aborts first.
 */
import { NodeFault } from '@hexedge/gateway';
import type { SimNode } from './nodes.ts';
import { logNormal, type Rng } from './random.ts';
import type { SimClock } from './sim-clock.ts';
import { CONNECT_TIMEOUT_MS, realisedRttMs, type ModelSpec } from './world.ts';

/** Service time spread around a node's mean (σ of the log). */
const SERVICE_SIGMA = 0.25;

/** What the node was when the attempt reached it ('answered' for a healthy node). */
export type AttemptKind = 'answered' | 'crashed' | 'blackholed' | 'overloaded' | 'relay';

export interface SimAttempt {
  node: SimNode;
  kind: AttemptKind;
  launchedAtMs: number;
  distanceKm: number;
  /** The realised network round trip of this attempt (jitter included). */
  rttMs: number;
  /** Expected queue wait + service at launch, ms (Infinity when saturated). */
  latencyMs: number;
}

export interface AttemptWorld {
  clock: SimClock;
  rand: Rng;
  /** Expected service + queue wait of `node` for `model` now, ms (Infinity when saturated). */
  latencyOf: (node: SimNode, model: ModelSpec) => number;
  serviceMs: (node: SimNode, model: ModelSpec) => number;
}

export function kindOf(node: SimNode, latencyMs: number): AttemptKind {
  if (node.state === 'blackholed') return 'blackholed';
  if (node.state !== 'up') return 'crashed';
  if (node.relay) return 'relay';
  return Number.isFinite(latencyMs) ? 'answered' : 'overloaded';
}

/** Starts one attempt: resolves with it when the node answers, rejects with a NodeFault (or the abort). */
export function attemptNode(
  world: AttemptWorld,
  a: { node: SimNode; model: ModelSpec; distanceKm: number; signal: AbortSignal },
): { attempt: SimAttempt; answer: Promise<SimAttempt> } {
  const { clock, rand } = world;
  const { node, model } = a;
  const latencyMs = world.latencyOf(node, model);
  const attempt: SimAttempt = {
    node,
    kind: kindOf(node, latencyMs),
    launchedAtMs: clock.now(),
    distanceKm: a.distanceKm,
    rttMs: realisedRttMs(a.distanceKm, rand),
    latencyMs,
  };
  const answer = new Promise<SimAttempt>((resolve, reject) => {
    let timer: unknown;
    switch (attempt.kind) {
      case 'answered': {
        const tookMs =
          attempt.rttMs +
          (latencyMs - world.serviceMs(node, model)) +
          logNormal(rand, world.serviceMs(node, model), SERVICE_SIGMA);
        timer = clock.setTimeout(() => resolve(attempt), tookMs);
        break;
      }
      case 'overloaded':
        timer = clock.setTimeout(() => reject(new NodeFault({ nodeId: node.id, kind: "server-error", httpStatus: 503, overloaded: true })), attempt.rttMs);
        break;
      case 'relay':
        // The honest node it relays to refuses a request addressed to another node (adversary-world.ts
        // checks that with checkForward); the relay has nothing to answer but an error.
        timer = clock.setTimeout(() => reject(new NodeFault({ nodeId: node.id, kind: 'server-error', httpStatus: 502 })), 2 * attempt.rttMs);
        break;
      case 'crashed':
        timer = clock.setTimeout(
          () => reject(new NodeFault({ nodeId: node.id, kind: "unreachable" })),
          attempt.rttMs,
        );
        break;
      case 'blackholed':
        timer = clock.setTimeout(
          () => reject(new NodeFault({ nodeId: node.id, kind: "timeout" })),
          CONNECT_TIMEOUT_MS,
        );
        break;
    }
    a.signal.addEventListener(
      'abort',
      () => {
        clock.clearTimeout(timer);
        reject(a.signal.reason);
      },
      { once: true },
    );
  });
  return { attempt, answer };
}
