// A shard's own state beside its placement, each piece persisted so that an evicted object picks up
// where it stopped: which cell it is (claimed by its first call), what it last told the shard map,
// the directory entries still to remove, and the alarm that evicts silent nodes. Kept out of the
// Durable Object class so its RPC methods read as the placement calls they are.
import { HexEdgeError } from '@hexedge/protocol';
import type { NodeRecord } from '../node-record.ts';
import type { Placement } from '../placement.ts';
import type { DurableNodeStore } from './durable-node-store.ts';
import { type PendingUnassigns, unassignFromDirectory } from './directory-cleanup.ts';
import { directoryOf, type PlacementShardEnv } from './shard-env.ts';
import { DIRECTORY_MAP_NAME, modelKey, type ShardSummary } from './shard-protocol.ts';

export class ShardUpkeep {
  readonly #storage: DurableObjectStorage;
  readonly #store: DurableNodeStore;
  readonly #placement: Placement;
  readonly #env: PlacementShardEnv;
  readonly #now: () => number;
  /** Nodes evicted for a newcomer's slot whose directory entries are still to be removed. */
  readonly #unassign: PendingUnassigns;
  #cell: string | undefined;
  #reported: string;
  #alarmAtMs: number | null = null;

  constructor(o: {
    storage: DurableObjectStorage;
    store: DurableNodeStore;
    placement: Placement;
    unassign: PendingUnassigns;
    env: PlacementShardEnv;
    /** The shard's clock (its `now`, which a test subclass shifts). */
    now: () => number;
  }) {
    this.#storage = o.storage;
    this.#store = o.store;
    this.#placement = o.placement;
    this.#unassign = o.unassign;
    this.#env = o.env;
    this.#now = o.now;
    this.#cell = o.store.getMeta('cell');
    this.#reported = o.store.getMeta('reported') ?? '';
  }

  /** The shard's res-2 cell; undefined until its first call names it. */
  get cell(): string | undefined {
    return this.#cell;
  }

  /** Takes the alarm the storage holds (set before an eviction from memory) and arms one if none is. */
  async loadAlarm(): Promise<void> {
    this.#alarmAtMs = await this.#storage.getAlarm();
    await this.#armAlarm();
  }

  claim(shard: string): void {
    if (this.#cell === shard) return;
    if (this.#cell !== undefined)
      throw new HexEdgeError('INTERNAL', `shard ${this.#cell} was addressed as ${shard}`);
    this.#store.setMeta('cell', shard);
    this.#cell = shard;
  }

  /** A heartbeat changes the shard map only when the node's models changed; else only the alarm. */
  async afterHeartbeat(before: NodeRecord | undefined, after: NodeRecord): Promise<void> {
    if (!before || !sameModels(before, after)) await this.afterChange();
    else await this.#armAlarm();
  }

  /** Tells the shard map when this shard's model set changed, clears evicted nodes' directory entries, and keeps the eviction alarm armed. */
  async afterChange(): Promise<void> {
    if (this.#cell) await this.#unassign.flush({ cell: this.#cell, directory: this.#directory });
    const summary = this.#summary();
    const reported = JSON.stringify(summary.models) + (summary.nodes > 0 ? '' : '∅');
    if (reported !== this.#reported) {
      await directoryOf(this.#env, DIRECTORY_MAP_NAME).reportShard(summary);
      this.#reported = reported;
      this.#store.setMeta('reported', reported);
    }
    await this.#armAlarm();
  }

  /** The alarm's work: evicts the nodes that fell silent and clears their directory entries. */
  async evictSilent(): Promise<void> {
    this.#alarmAtMs = null;
    const evicted = this.#placement.evictSilent();
    // Keep the current demand minute too: an idle shard may be evicted from memory after this.
    this.#placement.checkpoint();
    if (evicted.length > 0 && this.#cell)
      await unassignFromDirectory({ nodeIds: evicted, cell: this.#cell, directory: this.#directory });
    await this.afterChange();
  }

  /** Re-arms the eviction alarm from the current clock. */
  async rearmAlarm(): Promise<void> {
    await this.#storage.deleteAlarm();
    this.#alarmAtMs = null;
    await this.#armAlarm();
  }

  /**
   * The alarm fires when the longest-silent node reaches the eviction age. Heartbeats only push that
   * moment later, so an alarm already set is never too late; an early one re-arms itself.
   */
  async #armAlarm(): Promise<void> {
    if (this.#alarmAtMs !== null) return;
    let oldestMs = Infinity;
    for (const node of this.#placement.registry.values())
      oldestMs = Math.min(oldestMs, node.lastHeartbeatAtMs);
    if (oldestMs === Infinity) return;
    const dueInMs = Math.max(0, oldestMs + this.#placement.registry.evictAfterSilentMs + 1 - this.#now());
    this.#alarmAtMs = Date.now() + dueInMs;
    await this.#storage.setAlarm(this.#alarmAtMs);
  }

  readonly #directory = (bucket: string) => directoryOf(this.#env, bucket);

  #summary(): ShardSummary {
    const models = new Set<string>();
    for (const node of this.#placement.registry.values())
      for (const m of node.models) models.add(modelKey(m.name, m.version));
    return { cell: this.#cell!, models: [...models].sort(), nodes: this.#placement.registry.size };
  }
}

function sameModels(a: NodeRecord, b: NodeRecord): boolean {
  return (
    a.models.length === b.models.length &&
    a.models.every((m, i) => m.name === b.models[i]!.name && m.version === b.models[i]!.version)
  );
}
