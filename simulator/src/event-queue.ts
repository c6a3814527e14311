/** A binary min-heap of timed events; ties keep insertion order, so runs are deterministic. */
export interface TimedEvent {
  atMs: number;
  seq: number;
}

export class EventQueue<E extends { atMs: number }> {
  readonly #heap: Array<E & TimedEvent> = [];
  #seq = 0;

  get size(): number {
    return this.#heap.length;
  }

  push(event: E): void {
    const heap = this.#heap;
    const item = Object.assign(event, { seq: this.#seq++ });
    heap.push(item);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(item, heap[parent]!)) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = item;
  }

  pop(): E | undefined {
    const heap = this.#heap;
    const top = heap[0];
    const last = heap.pop();
    if (!top || top === last) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= heap.length) break;
      const r = l + 1;
      const child = r < heap.length && before(heap[r]!, heap[l]!) ? r : l;
      if (!before(heap[child]!, last!)) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = last!;
    return top;
  }
}

const before = (a: TimedEvent, b: TimedEvent) => a.atMs < b.atMs || (a.atMs === b.atMs && a.seq < b.seq);
