/**
 * This gateway's forwards outstanding per node: sent (or queued to send) and not yet settled. Placement
 * ranks with it (rankCandidatePool's `inFlight`) so a burst spreads over near-equal nodes instead of
 * herding onto the one that looked best. Counted here, from what the gateway itself sent, so no node
 * can inflate or hide it.
 */
export class NodeInFlight {
  readonly #counts = new Map<string, number>();

  get(nodeId: string): number | undefined {
    return this.#counts.get(nodeId);
  }

  /** Counts one forward to `nodeId` until the returned function is called (call it once). */
  begin(nodeId: string): () => void {
    this.#counts.set(nodeId, (this.#counts.get(nodeId) ?? 0) + 1);
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      const left = this.#counts.get(nodeId)! - 1;
      if (left > 0) this.#counts.set(nodeId, left);
      else this.#counts.delete(nodeId);
    };
  }

  /** Nodes with forwards outstanding (entries of settled nodes are removed, so it stays small). */
  get size(): number {
    return this.#counts.size;
  }
}
