import { directoryBucketName, type DirectoryApi } from './shard-protocol.ts';

/** Removes nodes' directory entries while they still name `cell`, one call per directory bucket. */
export async function unassignFromDirectory(options: {
  nodeIds: string[];
  cell: string;
  directory: (bucket: string) => DirectoryApi;
}): Promise<void> {
  const byBucket = new Map<string, string[]>();
  for (const id of options.nodeIds) {
    const bucket = directoryBucketName(id);
    byBucket.set(bucket, [...(byBucket.get(bucket) ?? []), id]);
  }
  await Promise.all(
    [...byBucket].map(([bucket, ids]) => options.directory(bucket).unassign(ids, options.cell)),
  );
}

/** The shard store's key-value meta table. */
interface MetaStore {
  getMeta(key: string): string | undefined;
  setMeta(key: string, value: string): void;
}

/**
 * Nodes a shard evicted to make room for a newcomer (the probation cap), whose directory entries are
 * still to be removed. Kept in the shard's meta until removed, so a failed call is retried at the
 * next change or alarm instead of leaving an entry for a node no shard holds.
 */
export class PendingUnassigns {
  readonly #meta: MetaStore;
  readonly #nodeIds: Set<string>;

  constructor(meta: MetaStore) {
    this.#meta = meta;
    this.#nodeIds = new Set(JSON.parse(meta.getMeta(META_KEY) ?? '[]') as string[]);
  }

  add(nodeId: string): void {
    this.#nodeIds.add(nodeId);
    this.#save();
  }

  /** Removes the entries; a failure leaves them listed (the eviction stands; a stale entry only leads to "unknown node"). */
  async flush(options: { cell: string; directory: (bucket: string) => DirectoryApi }): Promise<void> {
    if (this.#nodeIds.size === 0) return;
    const nodeIds = [...this.#nodeIds];
    try {
      await unassignFromDirectory({ nodeIds, ...options });
    } catch (err) {
      console.log(
        JSON.stringify({ level: 'warn', msg: 'directory cleanup failed; retried later', error: String(err) }),
      );
      return;
    }
    for (const id of nodeIds) this.#nodeIds.delete(id);
    this.#save();
  }

  #save(): void {
    this.#meta.setMeta(META_KEY, JSON.stringify([...this.#nodeIds]));
  }
}

const META_KEY = 'unassign';
