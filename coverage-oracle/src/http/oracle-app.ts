import {
  HexEdgeError,
  isHexEdgeError,
  MAX_REPORTS_BODY_BYTES,
  MAX_REPORTS_PER_POST,
  MAX_STAKE_BODY_BYTES,
  NODE_ID_PATTERN,
  ORACLE_IDENTITY_PATH,
  POSP_PATH,
  REPORTS_PATH,
  STAKE_PATH,
} from '@hexedge/protocol';
import { applyStakeMessage } from '../stake/stake-messages.ts';
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { CoverageOracle } from '../oracle.ts';
import type { OracleStore } from '../store/oracle-store.ts';
import { queryCoverage } from './coverage-query.ts';
import { buildNodeReport } from './node-report.ts';

export interface OracleAppOptions {
  oracle: CoverageOracle;
  /** The oracle's node id (its Ed25519 public key, base64url). */
  oracleId: string;
  store: OracleStore;
  /** Keys whose signed deposits credit stake accounts (none: deposits are refused). */
  treasuryIds?: readonly string[];
  nowMs?: () => number;
  /** Whether the service is up (the composition root flips it once its loops run). */
  isReady?: () => boolean;
}

function errorResponse(c: Context, err: unknown): Response {
  const e = isHexEdgeError(err) ? err : new HexEdgeError('INTERNAL', 'internal error');
  if (!isHexEdgeError(err))
    console.error(JSON.stringify({ level: 'error', msg: 'oracle: unexpected error', error: String(err) }));
  return c.json(e.toBody(), e.httpStatus as 400);
}

function epochParam(c: Context): number {
  const raw = c.req.param('epoch')!;
  const epoch = Number(raw);
  if (!/^\d{1,15}$/.test(raw) || !Number.isSafeInteger(epoch))
    throw new HexEdgeError(
      'INVALID_REQUEST',
      `epoch must be a non-negative integer, got ${JSON.stringify(raw.slice(0, 40))}`,
    );
  return epoch;
}

/**
 * The oracle's HTTP API (runtime-neutral hono): reports in, and everything it publishes out —
 * coverage, signed reward manifests with per-node Merkle proofs, per-node trust with its evidence,
 * and its identity (the key manifests and trust pushes are signed with).
 */
export function createOracleApp(options: OracleAppOptions): Hono {
  const { oracle, store } = options;
  const now = options.nowMs ?? Date.now;
  const app = new Hono();
  app.onError((err, c) => errorResponse(c, err));
  app.notFound((c) =>
    errorResponse(c, new HexEdgeError('NOT_FOUND', `no route ${c.req.method} ${c.req.path}`)),
  );

  app.get('/healthz', (c) =>
    (options.isReady?.() ?? true) ? c.json({ ok: true }) : c.json({ ok: false }, 503),
  );
  app.get(ORACLE_IDENTITY_PATH, (c) =>
    c.json({
      oracleId: options.oracleId,
      publicKey: options.oracleId,
      algorithm: 'Ed25519',
      encoding: 'base64url raw 32 bytes',
    }),
  );

  // One report is answered with its verdict as an HTTP status; a batch with one result per report.
  app.post(
    REPORTS_PATH,
    bodyLimit({
      maxSize: MAX_REPORTS_BODY_BYTES,
      onError: () => {
        throw new HexEdgeError('PAYLOAD_TOO_LARGE', `reports body exceeds ${MAX_REPORTS_BODY_BYTES} bytes`);
      },
    }),
    async (c) => {
      let raw: unknown;
      try {
        raw = await c.req.json();
      } catch {
        throw new HexEdgeError('INVALID_JSON', 'request body is not valid JSON');
      }
      if (!Array.isArray(raw)) {
        const result = await oracle.ingest.submit(raw, now());
        if (!result.accepted)
          throw new HexEdgeError(
            result.code,
            result.message,
            result.reason ? { reason: result.reason } : undefined,
          );
        return c.json(result, 202);
      }
      if (raw.length === 0 || raw.length > MAX_REPORTS_PER_POST) {
        throw new HexEdgeError(
          'INVALID_REQUEST',
          `a batch holds 1 to ${MAX_REPORTS_PER_POST} reports, got ${raw.length}`,
        );
      }
      const results = await oracle.ingest.submitBatch(raw, now());
      return c.json({ accepted: results.filter((r) => r.accepted).length, results }, 202);
    },
  );

  app.get('/v1/coverage', (c) => {
    const q = c.req.query();
    return c.json(
      queryCoverage(oracle.coverage, {
        ...(q.cell !== undefined ? { cell: q.cell } : {}),
        ...(q.bbox !== undefined ? { bbox: q.bbox } : {}),
        ...(q.lat !== undefined ? { lat: q.lat } : {}),
        ...(q.lng !== undefined ? { lng: q.lng } : {}),
      }),
    );
  });

  app.get('/v1/oracle/epochs/:epoch/manifest', (c) => {
    const epoch = epochParam(c);
    const published = oracle.getManifest(epoch);
    if (!published)
      throw new HexEdgeError('NOT_FOUND', `epoch ${epoch} is not closed (or predates this oracle)`);
    // The exact published bytes: anyone can check the signature over them.
    return new Response(published.bytes as Uint8Array<ArrayBuffer>, {
      headers: { 'content-type': 'application/json' },
    });
  });

  app.get('/v1/oracle/epochs/:epoch/proof/:nodeId', async (c) => {
    const epoch = epochParam(c);
    const nodeId = c.req.param('nodeId');
    // The proof first: it reads the epoch's kept tree, never its manifest (which `getManifest` parses).
    const proof = await oracle.getRewardProof(epoch, nodeId);
    if (!proof && !oracle.published.isClosed(epoch))
      throw new HexEdgeError('NOT_FOUND', `epoch ${epoch} is not closed (or predates this oracle)`);
    if (!proof)
      throw new HexEdgeError(
        'UNKNOWN_NODE',
        `node ${JSON.stringify(nodeId.slice(0, 80))} has no entry in epoch ${epoch}`,
      );
    return c.json({ epoch, ...proof });
  });

  // Stake: deposits (treasury-signed), bonds (operator-signed, node-consented) and unbonds (operator-signed).
  app.post(
    STAKE_PATH,
    bodyLimit({
      maxSize: MAX_STAKE_BODY_BYTES,
      onError: () => {
        throw new HexEdgeError('PAYLOAD_TOO_LARGE', `stake message exceeds ${MAX_STAKE_BODY_BYTES} bytes`);
      },
    }),
    async (c) => {
      let raw: unknown;
      try {
        raw = await c.req.json();
      } catch {
        throw new HexEdgeError('INVALID_JSON', 'request body is not valid JSON');
      }
      return c.json(
        await applyStakeMessage({
          raw,
          ledger: oracle.ledger,
          store,
          treasuryIds: options.treasuryIds ?? [],
          nowMs: now(),
        }),
      );
    },
  );
  app.get(`${STAKE_PATH}/:accountId`, (c) => {
    const accountId = c.req.param('accountId');
    if (!NODE_ID_PATTERN.test(accountId))
      throw new HexEdgeError(
        'INVALID_REQUEST',
        `account id must be a node id (43 base64url characters), got ${JSON.stringify(accountId.slice(0, 80))}`,
      );
    return c.json(oracle.ledger.accountOf(accountId, now()));
  });
  app.get(POSP_PATH, (c) => c.json(oracle.posp(now())));

  app.get('/v1/oracle/nodes/:nodeId', async (c) =>
    c.json(await buildNodeReport({ oracle, store, nodeId: c.req.param('nodeId'), nowMs: now() })),
  );
  return app;
}
