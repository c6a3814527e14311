import { DurableObject } from 'cloudflare:workers';
import type { DirectoryApi, ShardSummary } from './shard-protocol.ts';

/**
 * Routing metadata, not placement state: node id → shard (heartbeats carry no location) in buckets
 * by node id, and the shard map (which shards hold nodes, of which models) in one instance that the
 * Worker caches. Neither holds node records, locations or trust.
 */
export class PlacementDirectory extends DurableObject<object> implements DirectoryApi {
  readonly #sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: object) {
    super(ctx, env);
    this.#sql = ctx.storage.sql;
    this.#sql.exec(`
      CREATE TABLE IF NOT EXISTS node_shard (node_id TEXT PRIMARY KEY, shard TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS shard_map (cell TEXT PRIMARY KEY, models TEXT NOT NULL, nodes INTEGER NOT NULL);
    `);
  }

  async lookup(nodeId: string): Promise<string | null> {
    return this.#sql.exec<{ shard: string }>('SELECT shard FROM node_shard WHERE node_id = ?', nodeId).toArray()[0]?.shard ?? null;
  }

  async assign(nodeId: string, shard: string): Promise<void> {
    this.#sql.exec('INSERT OR REPLACE INTO node_shard (node_id, shard) VALUES (?, ?)', nodeId, shard);
  }

  async unassign(nodeIds: string[], shard: string): Promise<void> {
    for (const id of nodeIds) this.#sql.exec('DELETE FROM node_shard WHERE node_id = ? AND shard = ?', id, shard);
  }

  async reportShard(summary: ShardSummary): Promise<void> {
    if (summary.nodes === 0) this.#sql.exec('DELETE FROM shard_map WHERE cell = ?', summary.cell);
    else this.#sql.exec('INSERT OR REPLACE INTO shard_map (cell, models, nodes) VALUES (?, ?, ?)', summary.cell, JSON.stringify(summary.models), summary.nodes);
  }

  async shardMap(): Promise<ShardSummary[]> {
    return this.#sql
      .exec<{ cell: string; models: string; nodes: number }>('SELECT cell, models, nodes FROM shard_map ORDER BY cell')
      .toArray()
      .map((r) => ({ cell: r.cell, models: JSON.parse(r.models) as string[], nodes: Number(r.nodes) }));
  }
}
