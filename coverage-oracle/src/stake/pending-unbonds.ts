/** One unbond waiting out its delay: still bonded (slashable) until `releasesAtMs`. */
export interface PendingUnbond {
  amount: bigint;
  releasesAtMs: number;
  accountId: string;
}

/**
 * A node's pending unbonds during a stake replay: a binary min-heap on release time with a running
 * total, so a replay is O(events · log pending). A list filtered and summed at every event made it
 * O(events · pending): an operator posting tens of thousands of small signed unbonds made each replay
 * (every score tick, every stake message) take seconds on the oracle's one event loop.
 */
export class PendingUnbonds {
  readonly #heap: PendingUnbond[] = [];
  #sum = 0n;

  /** What is pending in all (still bonded). */
  get sum(): bigint {
    return this.#sum;
  }

  /** How many unbonds are pending. */
  get count(): number {
    return this.#heap.length;
  }

  /** When the earliest pending unbond is released, or null. */
  get earliestMs(): number | null {
    return this.#heap[0]?.releasesAtMs ?? null;
  }

  push(unbond: PendingUnbond): void {
    const heap = this.#heap;
    heap.push(unbond);
    this.#sum += unbond.amount;
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent]!.releasesAtMs <= heap[i]!.releasesAtMs) break;
      [heap[parent], heap[i]] = [heap[i]!, heap[parent]!];
      i = parent;
    }
  }

  /** Takes out every unbond released by `untilMs` (release time ≤ it), handing each to `released`. */
  releaseUntil(untilMs: number, released: (unbond: PendingUnbond) => void): void {
    while (this.#heap.length > 0 && this.#heap[0]!.releasesAtMs <= untilMs) {
      const top = this.#popMin();
      this.#sum -= top.amount;
      released(top);
    }
  }

  /** A slash reaches stake being unbonded too, in proportion: each amount becomes amount · after / before. */
  scale(after: bigint, before: bigint): void {
    let sum = 0n;
    for (const p of this.#heap) {
      p.amount = (p.amount * after) / before;
      sum += p.amount;
    }
    this.#sum = sum;
  }

  #popMin(): PendingUnbond {
    const heap = this.#heap;
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let least = i;
        if (left < heap.length && heap[left]!.releasesAtMs < heap[least]!.releasesAtMs) least = left;
        if (right < heap.length && heap[right]!.releasesAtMs < heap[least]!.releasesAtMs) least = right;
        if (least === i) break;
        [heap[least], heap[i]] = [heap[i]!, heap[least]!];
        i = least;
      }
    }
    return top;
  }
}
