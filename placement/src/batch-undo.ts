// With a group-committing store a message is answered only once its batch is on disk, and a failed
// commit answers STORAGE_UNAVAILABLE: the registry must then forget the batch in memory too, or a
// refused message would still have changed it. This keeps what is needed to put the batch back.
import type { NodeRecord } from './node-record.ts';

export class BatchUndo {
  readonly #whenDurable: () => Promise<void>;
  readonly #restore: (nodeId: string, before: NodeRecord | undefined) => void;
  /**
   * Each node's record as it was before the batch now waiting for its commit (undefined: the node is
   * new in it). A failed commit puts them back, so a message answered STORAGE_UNAVAILABLE changed
   * nothing, in memory either.
   */
  #undo: Map<string, NodeRecord | undefined> | undefined;

  /** `restore`: puts a node back as it was before the batch (`before` undefined: removes it). */
  constructor(options: {
    whenDurable: () => Promise<void>;
    restore: (nodeId: string, before: NodeRecord | undefined) => void;
  }) {
    this.#whenDurable = options.whenDurable;
    this.#restore = options.restore;
  }

  /** Keeps the pre-batch record of a node changed in the batch waiting for its commit. */
  remember(nodeId: string, before: NodeRecord | undefined): void {
    if (!this.#undo) {
      const undo = new Map<string, NodeRecord | undefined>();
      this.#undo = undo;
      void this.#whenDurable().then(
        () => {
          if (this.#undo === undo) this.#undo = undefined;
        },
        () => {
          if (this.#undo === undo) this.#undo = undefined;
          for (const [id, prev] of undo) this.#restore(id, prev);
        },
      );
    }
    if (!this.#undo.has(nodeId)) this.#undo.set(nodeId, before);
  }
}
