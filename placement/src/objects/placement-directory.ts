import { DurableObject } from 'cloudflare:workers';
import type { DirectoryApi, ShardSummary } from './shard-protocol.ts';

/**
 * Routing metadata, not placement state: node id → shard (heartbeats carry no location) in buckets
 * by node id, and the shard map (which shards hold nodes, of which models) in one instance that the
 * Worker caches. Neither holds node records, locations or trust. One more instance
 * (DIRECTORY_SEQS_NAME) keeps the last applied trust push `seq` per oracle, the gateway's replay guard,
 * and another (DIRECTORY_NONCES_NAME) the oracle's re-run nonces of the last minute.
 */
export class PlacementDirectory extends DurableObject<object> implements DirectoryApi {
  readonly #sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: object) {
    super(ctx, env);
    this.#sql = ctx.storage.sql;
    this.#sql.exec(`
      CREATE TABLE IF NOT EXISTS node_shard (node_id TEXT PRIMARY KEY, shard TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS shard_map (cell TEXT PRIMARY KEY, models TEXT NOT NULL, nodes INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS last_seq (sender TEXT PRIMARY KEY, seq INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS used_nonce (nonce TEXT PRIMARY KEY, at_ms INTEGER NOT NULL);
      CREATE INDEX IF NOT EXISTS used_nonce_age ON used_nonce (at_ms);
    `);
  }

  async lookup(nodeId: string): Promise<string | null> {
    return (
      this.#sql.exec<{ shard: string }>('SELECT shard FROM node_shard WHERE node_id = ?', nodeId).toArray()[0]
        ?.shard ?? null
    );
  }

  async lookupMany(nodeIds: string[]): Promise<(string | null)[]> {
    return nodeIds.map(
      (id) =>
        this.#sql.exec<{ shard: string }>('SELECT shard FROM node_shard WHERE node_id = ?', id).toArray()[0]
          ?.shard ?? null,
    );
  }

  /** One object runs one call at a time and this one does not await: the check and the store are one step. */
  async advanceSeq(sender: string, seq: number): Promise<{ advanced: boolean; last: number }> {
    const row = this.#sql
      .exec<{ seq: number }>('SELECT seq FROM last_seq WHERE sender = ?', sender)
      .toArray()[0];
    const last = row ? Number(row.seq) : -1;
    if (seq <= last) return { advanced: false, last };
    this.#sql.exec('INSERT OR REPLACE INTO last_seq (sender, seq) VALUES (?, ?)', sender, seq);
    return { advanced: true, last };
  }

  async claimNonce(nonce: string, nowMs: number, maxAgeMs: number): Promise<boolean> {
    this.#sql.exec('DELETE FROM used_nonce WHERE at_ms < ?', nowMs - maxAgeMs);
    if (this.#sql.exec('SELECT 1 FROM used_nonce WHERE nonce = ?', nonce).toArray().length > 0) return false;
    this.#sql.exec('INSERT INTO used_nonce (nonce, at_ms) VALUES (?, ?)', nonce, nowMs);
    return true;
  }

  async assign(nodeId: string, shard: string): Promise<void> {
    this.#sql.exec('INSERT OR REPLACE INTO node_shard (node_id, shard) VALUES (?, ?)', nodeId, shard);
  }

  async unassign(nodeIds: string[], shard: string): Promise<void> {
    for (const id of nodeIds)
      this.#sql.exec('DELETE FROM node_shard WHERE node_id = ? AND shard = ?', id, shard);
  }

  async reportShard(summary: ShardSummary): Promise<void> {
    if (summary.nodes === 0) this.#sql.exec('DELETE FROM shard_map WHERE cell = ?', summary.cell);
    else
      this.#sql.exec(
        'INSERT OR REPLACE INTO shard_map (cell, models, nodes) VALUES (?, ?, ?)',
        summary.cell,
        JSON.stringify(summary.models),
        summary.nodes,
      );
  }

  async shardMap(): Promise<ShardSummary[]> {
    return this.#sql
      .exec<{ cell: string; models: string; nodes: number }>(
        'SELECT cell, models, nodes FROM shard_map ORDER BY cell',
      )
      .toArray()
      .map((r) => ({ cell: r.cell, models: JSON.parse(r.models) as string[], nodes: Number(r.nodes) }));
  }
}
