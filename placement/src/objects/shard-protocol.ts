import {
  HexEdgeError,
  type ErrorCode,
  type LatLng,
  type NodeAck,
  type PlacementPolicy,
  type TrustScoreEntry,
} from '@hexedge/protocol';
import type { NodeRecord, NodeStatus } from '../node-record.ts';
import type { TrustRecord } from '../node-store.ts';
import type { CallOutcome, PoolEntry } from '../placement.ts';
import type { Candidate } from '../scoring.ts';
import type { TrustApplied } from '../trust-entries.ts';

/**
 * RPC between the Worker and the shards. Errors cross as values: Workers RPC keeps only an error's
 * message, and the gateway needs the HexEdgeError code (and its HTTP status) on the far side.
 */
export type ShardResult<T> =
  | { ok: true; value: T }
  | { ok: false; error: { code: ErrorCode; message: string; details?: Record<string, unknown> } };

export async function asResult<T>(run: () => T | Promise<T>): Promise<ShardResult<T>> {
  try {
    return { ok: true, value: await run() };
  } catch (err) {
    if (!(err instanceof HexEdgeError)) throw err;
    return {
      ok: false,
      error: { code: err.code, message: err.message, ...(err.details ? { details: err.details } : {}) },
    };
  }
}

export function unwrap<T>(result: ShardResult<T>): T {
  if (result.ok) return result.value;
  throw new HexEdgeError(result.error.code, result.error.message, result.error.details);
}

export interface ShardNearestQuery {
  location: LatLng;
  k: number;
  model?: string;
  version?: string;
  /** Only nodes holding this artifact, ready. */
  contentId?: string;
}

export interface ShardPoolQuery {
  location: LatLng;
  model: string;
  version?: string;
  k?: number;
  policy?: PlacementPolicy;
}

/**
 * A registration's outcome: the ack; or the record to hand to the shard of the node's new place
 * (`previous`: its record here before, to hand back if that shard refuses it); or, for a node this
 * shard does not hold whose place is in another shard, that shard (nothing was checked or written).
 */
export type RegisterOutcome =
  | { kind: 'kept'; ack: NodeAck; record: NodeRecord }
  | {
      kind: 'moved';
      record: NodeRecord;
      previous: NodeRecord;
      trust: TrustRecord | undefined;
      toShard: string;
    }
  | { kind: 'elsewhere'; toShard: string };

/** Where a registration came from (the client source: IPv4 address or IPv6 /48), for the probation cap. */
export interface RegisterOptions {
  source?: string;
}

/** How a node arrives from another shard: `source` as RegisterOptions; `returning`: handed back after its move was refused. */
export interface AdoptOptions {
  source?: string;
  returning?: boolean;
}

/** What a shard answers, as the coordinator sees it (the Durable Object stub, or a local object in tests). */
export interface ShardApi {
  register(message: unknown, shard: string, options?: RegisterOptions): Promise<ShardResult<RegisterOutcome>>;
  adopt(
    handOff: { record: NodeRecord; trust: TrustRecord | undefined },
    shard: string,
    options?: AdoptOptions,
  ): Promise<ShardResult<NodeAck>>;
  heartbeat(message: unknown, shard: string): Promise<ShardResult<NodeAck>>;
  nearest(query: ShardNearestQuery): Promise<ShardResult<Candidate[]>>;
  candidatePool(query: ShardPoolQuery, options: { recordDemand: boolean }): Promise<ShardResult<PoolEntry[]>>;
  getNode(id: string): Promise<{
    node: NodeRecord;
    status: NodeStatus;
    trust?: { score: number; probation: boolean; reasons: string[] };
  } | null>;
  healthyNodes(): Promise<NodeRecord[]>;
  reportOutcome(outcome: CallOutcome): Promise<ShardResult<null>>;
  setTrust(nodeId: string, score: number, reasons?: string[]): Promise<ShardResult<TrustRecord>>;
  markLocationVerified(nodeId: string): Promise<ShardResult<NodeRecord>>;
  /** One verified trust push's entries for this shard's nodes (applyTrustEntries). */
  applyTrust(
    scores: TrustScoreEntry[],
    options: { assumeLocationsVerified: boolean },
  ): Promise<ShardResult<TrustApplied>>;
}

/** A shard's entry in the shard map: which models its nodes announce (`name\u0000version`). */
export interface ShardSummary {
  cell: string;
  models: string[];
  nodes: number;
}

export const modelKey = (name: string, version: string) => `${name}\u0000${version}`;

/** Node id → shard, and the shard map (which shards hold nodes, and of which models). */
export interface DirectoryApi {
  lookup(nodeId: string): Promise<string | null>;
  /** `lookup` of several nodes of this bucket in one call, in their order. */
  lookupMany(nodeIds: string[]): Promise<(string | null)[]>;
  /**
   * Makes `seq` the last one applied from `sender` if it is above the last; says whether it did, and
   * the last one before (-1: none). Checked and stored in one call of one object (the
   * DIRECTORY_SEQS_NAME instance), so pushes reaching several isolates at once are ordered here.
   */
  advanceSeq(sender: string, seq: number): Promise<{ advanced: boolean; last: number }>;
  /**
   * Records a nonce used at `nowMs` and says whether it was new, forgetting those older than
   * `maxAgeMs` (the DIRECTORY_NONCES_NAME instance: the oracle's re-runs, one book for all isolates).
   */
  claimNonce(nonce: string, nowMs: number, maxAgeMs: number): Promise<boolean>;
  assign(nodeId: string, shard: string): Promise<void>;
  /** Removes the entry only while it still names this shard (a node that moved on keeps its new one). */
  unassign(nodeIds: string[], shard: string): Promise<void>;
  reportShard(summary: ShardSummary): Promise<void>;
  shardMap(): Promise<ShardSummary[]>;
}

/** Directory instances: the shard map, and node entries spread over buckets by node id. */
export const DIRECTORY_MAP_NAME = 'shard-map';
/** The directory instance holding the last applied trust push `seq` per oracle. */
export const DIRECTORY_SEQS_NAME = 'trust-seqs';
/** The directory instance holding the oracle's re-run nonces of the last minute. */
export const DIRECTORY_NONCES_NAME = 'rerun-nonces';
export const DIRECTORY_BUCKETS = 16;

export function directoryBucketName(nodeId: string): string {
  let h = 0x811c9dc5; // FNV-1a: node ids are already random (public keys), any mix spreads them
  for (let i = 0; i < nodeId.length; i++) h = Math.imul(h ^ nodeId.charCodeAt(i), 0x01000193);
  return `nodes-${(h >>> 0) % DIRECTORY_BUCKETS}`;
}
