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

export interface FailoverCount {
  first: number;
  served: number;
}

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
  readonly failover = { crashed: { first: 0, served: 0 }, blackholed: { first: 0, served: 0 }, overloaded: { first: 0, served: 0 } } satisfies Record<string, FailoverCount>;
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
