import { PRIORITIES, type Priority } from '@hexedge/protocol';

/**
 * How many requests may be queued for a model (all levels together) for a new request of each level to
 * still be admitted. Lower levels stop being admitted first, so as a queue fills, low priority is
 * refused while high priority still gets in; each level's own lane is bounded by its limit too.
 */
export type QueueLimits = Record<Priority, number>;

/**
 * Shares of `maxQueueSize` at which each level stops being admitted: normal keeps the queue's old
 * meaning (default traffic is refused where it always was), low gives up half of it, and high has a
 * quarter more held in reserve, so it still gets in once normal traffic has filled the queue.
 */
export const QUEUE_LIMIT_SHARES: Readonly<QueueLimits> = { high: 1.25, normal: 1, low: 0.5 };

/** The per-level limits for a queue of `maxQueueSize` (each at least 1, high above normal above low where room allows). */
export function queueLimitsFor(maxQueueSize: number): QueueLimits {
  const normal = Math.max(1, maxQueueSize);
  return {
    high: Math.max(normal + 1, Math.ceil(normal * QUEUE_LIMIT_SHARES.high)),
    normal,
    low: Math.max(1, Math.floor(normal * QUEUE_LIMIT_SHARES.low)),
  };
}

/** What a lane holds: its level, the batch key requests are joined by, and its rows (dim 0). */
export interface LaneItem {
  priority: Priority;
  key: string;
  rows: number;
}

/**
 * A model's queue as one FIFO lane per priority level. The next batch starts with the oldest request
 * of the highest non-empty level and takes compatible requests highest level first, oldest first, so a
 * high-priority request never waits behind lower ones for a run slot (the lower ones still ride along
 * in a batch that has room). Lanes are arrays: a queue is bounded (hundreds), and removal from the
 * middle (a deadline that passed) is rare.
 */
export class PriorityLanes<T extends LaneItem> {
  readonly #lanes: Record<Priority, T[]> = { high: [], normal: [], low: [] };
  readonly #limits: QueueLimits;
  #size = 0;

  constructor(limits: QueueLimits) {
    this.#limits = limits;
  }

  get size(): number {
    return this.#size;
  }

  get limits(): Readonly<QueueLimits> {
    return this.#limits;
  }

  sizeOf(priority: Priority): number {
    return this.#lanes[priority].length;
  }

  /** Whether a new request of this level gets in now: fewer than its level's limit queued in all. */
  admits(priority: Priority): boolean {
    return this.#size < this.#limits[priority];
  }

  push(item: T): void {
    this.#lanes[item.priority].push(item);
    this.#size++;
  }

  /** Takes an item out wherever it is (its deadline passed); false when it was not queued. */
  remove(item: T): boolean {
    const lane = this.#lanes[item.priority];
    const i = lane.indexOf(item);
    if (i < 0) return false;
    lane.splice(i, 1);
    this.#size--;
    return true;
  }

  /** The request the next batch starts with: the oldest of the highest non-empty level. */
  first(): T | undefined {
    for (const p of PRIORITIES) if (this.#lanes[p].length > 0) return this.#lanes[p][0];
    return undefined;
  }

  /** Rows queued (all levels) that could join a batch keyed `key`. */
  rowsWithKey(key: string): number {
    let rows = 0;
    for (const p of PRIORITIES) for (const item of this.#lanes[p]) if (item.key === key) rows += item.rows;
    return rows;
  }

  /** Removes and returns the requests keyed `key` that fit in `maxRows`, highest level first, oldest first. */
  take(key: string, maxRows: number): T[] {
    const batch: T[] = [];
    let rows = 0;
    for (const p of PRIORITIES) {
      const lane = this.#lanes[p];
      for (let i = 0; i < lane.length && rows < maxRows;) {
        const item = lane[i]!;
        if (item.key === key && rows + item.rows <= maxRows) {
          batch.push(item);
          rows += item.rows;
          lane.splice(i, 1);
          this.#size--;
        } else {
          i++;
        }
      }
    }
    return batch;
  }

  /** Queued requests at this level and above: what a new request of this level waits behind. */
  aheadOf(priority: Priority): number {
    let n = 0;
    for (const p of PRIORITIES) {
      n += this.#lanes[p].length;
      if (p === priority) break;
    }
    return n;
  }
}
