import {
  HexEdgeError,
  isValidSignature,
  MAX_TRUST_PUSH_AGE_MS,
  MAX_TRUST_PUSH_SKEW_MS,
  oracleNodeReportPath,
  POSP_PATH,
  type PospReport,
  trustPushSchema,
  type NodeListPage,
  type TrustScoreEntry,
} from '@hexedge/protocol';
import type { Context } from 'hono';
import type { GatewayPlacement } from '../gateway-placement.ts';
import { readJsonBody } from '../http-errors.ts';
import { nodeListQuery } from '../openapi/node-routes.ts';
import { valid } from '../openapi/params.ts';
import type { OracleNodeReport, OracleReader } from './dashboard-operator.ts';

/**
 * The gateway's side of the coverage oracle: the oracle's signed trust pushes into placement, the
 * coverage map proxied from the oracle, the node list the oracle's directory reads, and an
 * `OracleReader` over the oracle's HTTP API for the operator view.
 */

import { applyTrustEntries, claimedAtMs, type TrustApplied, type TrustTarget } from '@hexedge/placement';
export { applyTrustEntries, claimedAtMs, type ClaimHolder, type TrustTarget } from '@hexedge/placement';

/** Whether a push's `seq` became the last applied from its oracle, and the last one before it (-1: none). */
export interface SeqAdvance {
  advanced: boolean;
  last: number;
}

/**
 * The last applied `seq` per oracle; durable on Node (SqliteSeqStore) and on the Worker (a Durable
 * Object), so a restart does not reopen replays. `advance` checks and stores in one step: on the
 * Worker pushes reach several isolates at once, and a check apart from its store would let an older
 * push slip in behind a newer one.
 */
export interface SeqStore {
  advance(sender: string, seq: number): SeqAdvance | Promise<SeqAdvance>;
}

/** A SeqStore in memory (tests; a gateway without a data directory). */
export function memorySeqStore(): SeqStore {
  const seqs = new Map<string, number>();
  return {
    advance: (sender, seq) => {
      const last = seqs.get(sender) ?? -1;
      if (seq <= last) return { advanced: false, last };
      seqs.set(sender, seq);
      return { advanced: true, last };
    },
  };
}

/**
 * Where a verified push's scores go: an in-process Placement (`placementTrustSink`), or the Worker's
 * sharded placement, whose shards each apply their own nodes' entries in their object. Either way the
 * decision is `applyTrustEntries`.
 */
export interface TrustSink {
  applyTrust(
    scores: readonly TrustScoreEntry[],
    options: { assumeLocationsVerified: boolean },
  ): TrustApplied | Promise<TrustApplied>;
}

/** The trust sink of a placement in this process (the Node gateway's Placement, the simulator's). */
export function placementTrustSink(placement: TrustTarget): TrustSink {
  return {
    applyTrust: (scores, { assumeLocationsVerified }) =>
      applyTrustEntries({ placement, scores, assumeLocationsVerified }),
  };
}

/**
 * POST /v1/oracle/trust: the oracle's scores, applied to placement. Only a configured oracle's
 * signature is accepted; a push whose `seq` is not above the last applied one from that oracle is a
 * replay (or arrived out of order) and is refused whole, as is a stale one. Nodes the registry does
 * not know are skipped, not refused: the oracle re-sends every score periodically, so a node that
 * registers later gets its score then. A node on probation (no verified work yet) keeps placement's
 * probation: its score is not applied. Location verification follows the claim the push names: it
 * verifies (or unverifies) the node only while the node still makes exactly that claim, so a verdict
 * on a place the node has left never carries over to its new one.
 */
export function oracleTrustHandler(options: {
  /** Where the scores go (placementTrustSink of the in-process Placement, or the Worker's shards). */
  placement: TrustSink;
  oracleIds: Iterable<string>;
  /** Claims are taken as verified without an oracle's word (one machine): a push never unverifies then. */
  assumeLocationsVerified?: boolean;
  nowMs?: () => number;
  /** Where the last applied seq per oracle is kept; memory when absent. */
  seqs?: SeqStore;
}) {
  const now = options.nowMs ?? Date.now;
  const lastSeq = options.seqs ?? memorySeqStore();
  return async (c: Context) => {
    const raw = await readJsonBody(c);
    const parsed = trustPushSchema.safeParse(raw);
    if (!parsed.success)
      throw new HexEdgeError(
        'INVALID_REQUEST',
        `trust push ${parsed.error.issues[0]?.path.join('.') || 'body'}: ${parsed.error.issues[0]?.message}`,
      );
    const push = parsed.data;
    const { nodeId: oracleId, issuedAtMs, seq } = push.body;
    // Re-read each time: the composition root may add an oracle while the gateway runs.
    if (![...options.oracleIds].includes(oracleId))
      throw new HexEdgeError('FORBIDDEN', `${oracleId} is not a configured oracle`);
    if (!(await isValidSignature('oracle-trust', push)))
      throw new HexEdgeError('BAD_SIGNATURE', `trust push signature does not verify for oracle ${oracleId}`);
    const nowMs = now();
    if (issuedAtMs > nowMs + MAX_TRUST_PUSH_SKEW_MS || issuedAtMs < nowMs - MAX_TRUST_PUSH_AGE_MS) {
      throw new HexEdgeError(
        'STALE_MESSAGE',
        `trust push issuedAtMs ${issuedAtMs} is ${nowMs - issuedAtMs} ms from now (allowed: ${MAX_TRUST_PUSH_AGE_MS} old, ${MAX_TRUST_PUSH_SKEW_MS} ahead)`,
      );
    }
    // Stored (durably) before anything is applied: a crash in between cannot reopen the replay.
    const { advanced, last } = await lastSeq.advance(oracleId, seq);
    if (!advanced)
      throw new HexEdgeError(
        'REPLAYED',
        `trust push seq ${seq} from oracle ${oracleId} is not above the last applied ${last}`,
      );
    const assumeLocationsVerified = options.assumeLocationsVerified ?? false;
    const { applied, ignored } = await options.placement.applyTrust(push.body.scores, {
      assumeLocationsVerified,
    });
    return c.json({ seq, applied: applied.length, ignored });
  };
}

const PROXY_TIMEOUT_MS = 5_000;

/** GET /v1/coverage: the oracle's coverage map, proxied with the query as given (the oracle validates it). */
export function coverageProxyHandler(options: { oracleUrl: string; fetch?: typeof fetch }) {
  const doFetch = options.fetch ?? fetch;
  return async (c: Context) => {
    const url = new URL('/v1/coverage', options.oracleUrl);
    url.search = new URL(c.req.url).search;
    let res: Response;
    try {
      res = await doFetch(url.href, { signal: AbortSignal.timeout(PROXY_TIMEOUT_MS) });
    } catch (err) {
      throw new HexEdgeError(
        'NODE_FAILED',
        `coverage oracle at ${options.oracleUrl} is unreachable: ${(err as Error).message}`,
      );
    }
    return new Response(res.body, {
      status: res.status,
      headers: { 'content-type': res.headers.get('content-type') ?? 'application/json' },
    });
  };
}

/**
 * GET /v1/nodes?limit=&after=: healthy nodes in id order, with where to reach them and where they
 * claim to be (the oracle's directory reads it; the id is the node's public key). Public, like
 * `/v1/artifacts/{id}/peers`, which tells the same to anyone who asks.
 */
export function nodeListHandler(placement: Pick<GatewayPlacement, 'healthyNodes'>) {
  return async (c: Context) => {
    const { limit, after } = valid(c, 'query', nodeListQuery);
    const sorted = [...(await placement.healthyNodes())]
      .filter((n) => n.id > after)
      .sort((a, b) => (a.id < b.id ? -1 : 1));
    const page = sorted.slice(0, limit);
    const body: NodeListPage = {
      nodes: page.map((n) => ({
        id: n.id,
        url: n.url,
        lat: n.location.lat,
        lng: n.location.lng,
        cell: n.cell,
        locationVerified: n.locationVerified,
        claimedAtMs: claimedAtMs(n),
        models: n.models.map((m) => ({ name: m.name, version: m.version, ready: m.ready })),
      })),
      next: sorted.length > limit ? page.at(-1)!.id : null,
    };
    return c.json(body);
  };
}

/** The operator view's oracle reader over the oracle's HTTP API (`GET /v1/oracle/nodes/{id}`, `/v1/coverage?cell=`). */
export function httpOracleReader(options: { oracleUrl: string; fetch?: typeof fetch }): OracleReader {
  const doFetch = options.fetch ?? fetch;
  const get = async (path: string) => {
    const res = await doFetch(new URL(path, options.oracleUrl).href, {
      signal: AbortSignal.timeout(PROXY_TIMEOUT_MS),
    });
    if (!res.ok) {
      await res.body?.cancel();
      return undefined;
    }
    return (await res.json()) as Record<string, unknown>;
  };
  return {
    nodeReport: async (nodeId) =>
      (await get(oracleNodeReportPath(nodeId)).catch(() => undefined)) as OracleNodeReport | undefined,
    posp: async () => (await get(POSP_PATH).catch(() => undefined)) as PospReport | undefined,
    hexSignal: async (cell) => {
      const answer = (await get(`/v1/coverage?cell=${encodeURIComponent(cell)}`).catch(() => undefined)) as
        { cells?: Array<{ nodes: Array<{ bestSignalDbm?: number; bestSnrDb?: number }> }> } | undefined;
      const radio = (answer?.cells ?? [])
        .flatMap((c) => c.nodes)
        .filter((n) => n.bestSignalDbm !== undefined);
      if (radio.length === 0) return undefined;
      const best = radio.reduce((a, b) => (b.bestSignalDbm! > a.bestSignalDbm! ? b : a));
      return { rssiDbm: best.bestSignalDbm!, snrDb: best.bestSnrDb ?? 0, witnesses: radio.length };
    },
  };
}
