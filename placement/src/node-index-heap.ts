/**
 * The k best candidates so far, as a max-heap on (distanceKm, id) so the worst sits on top and is the
 * one a better candidate evicts. Ties on distance go to the smaller id (string order), the same order
 * a brute-force sort gives, so equal-distance points (duplicates at one spot) are chosen identically.
 */
export class NeighbourHeap {
  #distancesKm = new Float64Array(16);
  #slots = new Int32Array(16);
  #size = 0;
  #limit = 0;
  #records: readonly ({ id: string } | undefined)[] = [];

  reset(limit: number, records: readonly ({ id: string } | undefined)[]): void {
    this.#size = 0;
    this.#limit = limit;
    this.#records = records;
    // Grows with the largest k seen, capped by the index size the caller clamps `limit` to.
    if (limit > this.#slots.length) {
      this.#distancesKm = new Float64Array(limit);
      this.#slots = new Int32Array(limit);
    }
  }

  isFull(): boolean {
    return this.#size >= this.#limit;
  }

  worstDistanceKm(): number {
    return this.#distancesKm[0]!;
  }

  /** Adds the candidate if it beats the current worst (or the heap has room); true if it was kept. */
  offer(distanceKm: number, slot: number): boolean {
    if (this.#size < this.#limit) {
      this.#siftUp(this.#size++, distanceKm, slot);
      return true;
    }
    if (this.#size === 0 || !this.#isBefore(distanceKm, slot, this.#distancesKm[0]!, this.#slots[0]!)) return false;
    this.#siftDown(0, distanceKm, slot);
    return true;
  }

  /** Empties the heap into a nearest-first list. */
  drainSorted(): { id: string; distanceKm: number }[] {
    const result = new Array<{ id: string; distanceKm: number }>(this.#size);
    while (this.#size > 0) {
      const last = --this.#size;
      result[last] = { id: this.#records[this.#slots[0]!]!.id, distanceKm: this.#distancesKm[0]! };
      if (last > 0) this.#siftDown(0, this.#distancesKm[last]!, this.#slots[last]!);
    }
    this.#records = [];
    return result;
  }

  #isBefore(distanceA: number, slotA: number, distanceB: number, slotB: number): boolean {
    if (distanceA !== distanceB) return distanceA < distanceB;
    return this.#records[slotA]!.id < this.#records[slotB]!.id;
  }

  #siftUp(index: number, distanceKm: number, slot: number): void {
    let i = index;
    while (i > 0) {
      const up = (i - 1) >> 1;
      if (!this.#isBefore(this.#distancesKm[up]!, this.#slots[up]!, distanceKm, slot)) break;
      this.#distancesKm[i] = this.#distancesKm[up]!;
      this.#slots[i] = this.#slots[up]!;
      i = up;
    }
    this.#distancesKm[i] = distanceKm;
    this.#slots[i] = slot;
  }

  #siftDown(index: number, distanceKm: number, slot: number): void {
    let i = index;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= this.#size) break;
      const right = child + 1;
      if (
        right < this.#size &&
        this.#isBefore(this.#distancesKm[child]!, this.#slots[child]!, this.#distancesKm[right]!, this.#slots[right]!)
      ) {
        child = right;
      }
      if (!this.#isBefore(distanceKm, slot, this.#distancesKm[child]!, this.#slots[child]!)) break;
      this.#distancesKm[i] = this.#distancesKm[child]!;
      this.#slots[i] = this.#slots[child]!;
      i = child;
    }
    this.#distancesKm[i] = distanceKm;
    this.#slots[i] = slot;
  }
}
