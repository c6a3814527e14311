/** What a run measures, accumulated per request; turned into rows and plots at the end. */
import type { StreamSpec } from './world.ts';

/** Per-request figures kept for medians and CDFs (a reservoir would bias nothing here: runs are ≤ a few M requests). */
export class Series {
  #data = new Float64Array(1024);
  length = 0;

  push(v: number): void {
    if (this.length === this.#data.length) {
      const next = new Float64Array(this.#data.length * 2);
      next.set(this.#data);
      this.#data = next;
    }
    this.#data[this.length++] = v;
  }

  sorted(): Float64Array {
    return this.#data.slice(0, this.length).sort();
  }
}

/** A node fault an attempt of the walk can meet (attempts.ts). */
export type FaultKind = 'crashed' | 'blackholed' | 'overloaded' | 'relay';

/**
 * Requests whose walk met a node of one fault kind (counted once per request, whichever attempt met
 * it), how many of them were still served within the deadline, and the time each served one lost:
 * from the request's start to the launch of the attempt that answered it (kept apart for requests
 * that asked to hedge, whose copy goes out after a p95 instead of an attempt timeout).
 */
export interface FailoverCount {
  hit: number;
  served: number;
  lostMs: Series;
  lostHedgedMs: Series;
}

const failoverCount = (): FailoverCount => ({ hit: 0, served: 0, lostMs: new Series(), lostHedgedMs: new Series() });

export class SimMetrics {
  requests = 0;
  served = 0;
  noCandidate = 0;
  /** Not served although some live node held the model (perfect knowledge had a choice). */
  unservedWithLiveNode = 0;
  withoutLiveNode = 0;
  readonly addedRatio = new Series();
  readonly chosenMs = new Series();
  readonly perfectMs = new Series();
  readonly fibreMs = new Series();
  /** Realised network round trip ÷ light in fibre, for nodes ≥ 100 km away (nearer, the last mile dominates). */
  readonly networkStretch = new Series();
  readonly reachable = new Map<StreamSpec['name'], { reachable: number; within: number }>();
  readonly failover: Record<FaultKind, FailoverCount> = { crashed: failoverCount(), blackholed: failoverCount(), overloaded: failoverCount(), relay: failoverCount() };
  /** Requests that asked the walk to hedge; hedged copies it sent (launched while an earlier attempt ran); copies that answered first. */
  readonly hedging = { requests: 0, copies: 0, won: 0 };
  /** Walks that ended unserved, by the gateway's error code (DEADLINE_EXCEEDED, NODE_FAILED, NO_NODE_AVAILABLE). */
  readonly unservedBy = new Map<string, number>();
  readonly hourly: Array<{ served: number; dishonest: number; locationLiar: number }> = [];
  attempts = 0;

  hour(h: number): { served: number; dishonest: number; locationLiar: number } {
    while (this.hourly.length <= h) this.hourly.push({ served: 0, dishonest: 0, locationLiar: 0 });
    return this.hourly[h]!;
  }

  stream(name: StreamSpec['name']): { reachable: number; within: number } {
    let s = this.reachable.get(name);
    if (!s) this.reachable.set(name, (s = { reachable: 0, within: 0 }));
    return s;
  }
}
