import type { StandingEntry } from '@hexedge/coverage-oracle';
import type { SimNode } from '../nodes.ts';

/**
 * The nodes with verifier standing that serve each model (the checkers a spot check draws from),
 * rebuilt from the standing map on first use after a node gained or lost standing.
 */
export class VerifierLists {
  readonly #standing: ReadonlyMap<string, StandingEntry>;
  readonly #nodesById: ReadonlyMap<string, SimNode>;
  #verifiers = new Map<string, string[]>();
  #stale = true;

  constructor(o: { standing: ReadonlyMap<string, StandingEntry>; nodesById: ReadonlyMap<string, SimNode> }) {
    this.#standing = o.standing;
    this.#nodesById = o.nodesById;
  }

  /** A node gained or lost verifier standing: the lists are rebuilt on next use. */
  markStale(): void {
    this.#stale = true;
  }

  of(model: string): readonly string[] {
    if (this.#stale) {
      this.#verifiers = new Map();
      for (const [id, entry] of this.#standing) {
        if (!entry.standing.verifier) continue;
        const node = this.#nodesById.get(id);
        if (!node) continue;
        for (const [name, ready] of node.models) if (ready) this.#listOf(name).push(id);
      }
      this.#stale = false;
    }
    return this.#verifiers.get(model) ?? [];
  }

  #listOf(model: string): string[] {
    let list = this.#verifiers.get(model);
    if (!list) this.#verifiers.set(model, (list = []));
    return list;
  }
}
