/**
 * Nodes on probation (no oracle score yet) one placement shard keeps at most, unless the Worker's
 * MAX_PROBATION_NODES_PER_SHARD var says otherwise. A shard is one res-2 H3 cell (~87 000 km²): a
 * thousand unscored newcomers at once in one such area is far beyond honest growth between the
 * oracle's scorings, and keeps a flooded shard's records (~1 KB each) near a megabyte and its scans
 * short. The deployment-wide bound is this times the shards with nodes, at most the 5 882 res-2 cells
 * (2 + 120·7²).
 */
export const DEFAULT_MAX_PROBATION_NODES_PER_SHARD = 1_000;

/** The per-shard cap from the Worker's vars; a var that is not a positive integer throws (the shard fails to start rather than run uncapped). */
export function maxProbationNodesPerShardOf(env: { MAX_PROBATION_NODES_PER_SHARD?: string }): number {
  const text = env.MAX_PROBATION_NODES_PER_SHARD;
  if (text === undefined || text === '') return DEFAULT_MAX_PROBATION_NODES_PER_SHARD;
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0)
    throw new Error(`MAX_PROBATION_NODES_PER_SHARD must be a positive integer, got ${JSON.stringify(text)}`);
  return value;
}
