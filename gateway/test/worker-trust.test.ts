import {
  exportKeyPair,
  generateNodeKeyPair,
  signBody,
  signRerun,
  type LatLng,
  type NodeKeyPair,
  type TrustScoreEntry,
} from '@hexedge/protocol';
import type { Miniflare } from 'miniflare';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleWorker, startWorker } from './worker-harness.ts';

/**
 * The coverage oracle's signed trust pushes (POST /v1/oracle/trust) into the Worker gateway (the real
 * entry, bundled by wrangler, in workerd with two isolates sharing the Durable Objects): each entry is
 * applied in its node's placement shard as the Node gateway applies it (score unless on probation,
 * location verified only for the claim it names), the last applied seq per oracle is one durable
 * record that both isolates order pushes by, and forged, unknown-oracle and replayed pushes are refused.
 * The oracle's spot-check re-runs go to the node from its shard, each nonce once across isolates.
 */
const ADMIN = 'worker-trust-admin-key-0123456789';
const MODEL = { name: 'm', version: '1', contentId: 'c'.repeat(64), ready: true };
const AMSTERDAM = { lat: 52.37, lng: 4.9 };
const NEW_YORK = { lat: 40.71, lng: -74.0 };
const AMSTERDAM_SOUTH = { lat: 52.3, lng: 4.88 };

let bundle: ReturnType<typeof bundleWorker>;
let mf: Miniflare;
let persistDir: string;
let oracle: NodeKeyPair;
const nodes: { keys: NodeKeyPair; location: LatLng }[] = [];

type Via = (p: string, init?: { method?: string; body?: unknown }) => Promise<Response>;
let a: Via;
let b: Via;

const push = async (o: {
  seq: number;
  scores: TrustScoreEntry[];
  signer?: NodeKeyPair;
  issuedAtMs?: number;
}) => {
  const signer = o.signer ?? oracle;
  return signBody(
    'oracle-trust',
    {
      type: 'oracle-trust' as const,
      nodeId: signer.nodeId,
      issuedAtMs: o.issuedAtMs ?? Date.now(),
      seq: o.seq,
      scores: o.scores,
    },
    signer.privateKey,
  );
};
const errorOf = async (res: Response) =>
  ((await res.json()) as { error: { code: string; message: string } }).error;

beforeAll(async () => {
  oracle = await generateNodeKeyPair();
  bundle = bundleWorker(path.resolve(import.meta.dirname, '../src/adapters/worker.ts'));
  persistDir = mkdtempSync(path.join(os.tmpdir(), 'hexedge-worker-trust-'));
  mf = startWorker({
    scriptPath: bundle.scriptPath,
    persistDir,
    isolates: 2,
    bindings: {
      HEXEDGE_API_KEY: ADMIN,
      ASSUME_LOCATIONS_VERIFIED: 'false',
      // Receipt reports and the coverage proxy would call it; nothing here infers or reads coverage.
      ORACLE_URL: 'http://127.0.0.1:9',
      HEXEDGE_GATEWAY_KEY: JSON.stringify(await exportKeyPair(await generateNodeKeyPair())),
      ORACLE_IDS: oracle.nodeId,
    },
  });
  const via =
    (name: string): Via =>
    async (p, init = {}) =>
      (await (
        await mf.getWorker(name)
      ).fetch(`http://gw${p}`, {
        method: init.method ?? 'GET',
        headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
        ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
      })) as unknown as Response;
  a = via('gateway');
  b = via('gateway-2');
  for (const location of [AMSTERDAM, NEW_YORK, AMSTERDAM_SOUTH]) {
    const keys = await generateNodeKeyPair();
    const registration = await signBody(
      'registration',
      {
        nodeId: keys.nodeId,
        issuedAtMs: Date.now(),
        url: `http://${keys.nodeId.slice(0, 6).toLowerCase()}.test`,
        location,
        hardware: { cpuCores: 4, memoryMb: 4096, executionProviders: ['cpu' as const] },
        models: [MODEL],
      },
      keys.privateKey,
    );
    const res = await a('/v1/nodes/register', { method: 'POST', body: registration });
    expect(res.status, await res.clone().text()).toBe(200);
    nodes.push({ keys, location });
  }
}, 60_000);

afterAll(async () => {
  await mf?.dispose();
  bundle?.cleanup();
  if (persistDir) rmSync(persistDir, { recursive: true, force: true });
});

const nodeView = async (via: Via, i: number) =>
  (await (await via(`/v1/nodes/${nodes[i]!.keys.nodeId}`)).json()) as {
    locationVerified: boolean;
    trust?: { score: number; probation: boolean; reasons: string[] };
  };

describe('oracle trust pushes into the Worker gateway (workerd, two isolates)', () => {
  it('applies each entry in its node’s shard as the Node gateway does', async () => {
    expect((await nodeView(a, 0)).locationVerified).toBe(false);
    const unknown = (await generateNodeKeyPair()).nodeId;
    const scores: TrustScoreEntry[] = [
      // Standing, and its current claim verified: both apply.
      {
        nodeId: nodes[0]!.keys.nodeId,
        score: 0.9,
        probation: false,
        reasons: ['verified work'],
        locationVerified: true,
        verifiedClaim: AMSTERDAM,
      },
      // On probation: the claim is verified, the score is not applied (placement keeps probation).
      {
        nodeId: nodes[1]!.keys.nodeId,
        score: 0.2,
        probation: true,
        reasons: [],
        locationVerified: true,
        verifiedClaim: NEW_YORK,
      },
      // A verdict on another place than the node claims now: its location stays unverified.
      {
        nodeId: nodes[2]!.keys.nodeId,
        score: 0.7,
        probation: false,
        reasons: [],
        locationVerified: true,
        verifiedClaim: AMSTERDAM,
      },
      {
        nodeId: unknown,
        score: 1,
        probation: false,
        reasons: [],
        locationVerified: true,
        verifiedClaim: AMSTERDAM,
      },
    ];
    const res = await a('/v1/oracle/trust', { method: 'POST', body: await push({ seq: 1, scores }) });
    expect(res.status, await res.clone().text()).toBe(200);
    expect(await res.json()).toEqual({ seq: 1, applied: 3, ignored: [unknown] });

    const [standing, probation, elsewhere] = [
      await nodeView(b, 0),
      await nodeView(b, 1),
      await nodeView(b, 2),
    ];
    expect(standing).toMatchObject({
      locationVerified: true,
      trust: { score: 0.9, probation: false, reasons: ['verified work'] },
    });
    expect(probation.locationVerified).toBe(true);
    expect(probation.trust?.probation).toBe(true);
    expect(probation.trust?.score).not.toBe(0.2);
    expect(elsewhere.locationVerified).toBe(false);
    expect(elsewhere.trust?.score).toBe(0.7);
  });

  it('refuses a replay at either isolate, and orders one push sent to both at once', async () => {
    const first = await push({ seq: 2, scores: [] });
    expect((await a('/v1/oracle/trust', { method: 'POST', body: first })).status).toBe(200);
    for (const via of [a, b]) {
      const again = await via('/v1/oracle/trust', { method: 'POST', body: first });
      expect(again.status).toBe(409);
      expect(await errorOf(again)).toMatchObject({
        code: 'REPLAYED',
        message: expect.stringContaining('seq 2'),
      });
    }
    // One push, captured and sent to both isolates at the same moment: exactly one applies it.
    const raced = await push({ seq: 3, scores: [] });
    const statuses = await Promise.all(
      [a, b].map(async (via) => (await via('/v1/oracle/trust', { method: 'POST', body: raced })).status),
    );
    expect(statuses.sort()).toEqual([200, 409]);
    // An older push after a newer one is a replay too.
    const older = await a('/v1/oracle/trust', { method: 'POST', body: await push({ seq: 1, scores: [] }) });
    expect(await errorOf(older)).toMatchObject({ code: 'REPLAYED' });
  });

  it('refuses a push from an oracle it does not list, and one whose signature does not verify', async () => {
    const stranger = await generateNodeKeyPair();
    const foreign = await a('/v1/oracle/trust', {
      method: 'POST',
      body: await push({ seq: 100, scores: [], signer: stranger }),
    });
    expect(foreign.status).toBe(403);
    expect(await errorOf(foreign)).toMatchObject({ code: 'FORBIDDEN' });
    const signed = await push({ seq: 101, scores: [] });
    const forged = { ...signed, body: { ...signed.body, seq: 102 } };
    const bad = await a('/v1/oracle/trust', { method: 'POST', body: forged });
    expect(bad.status).toBe(401);
    expect(await errorOf(bad)).toMatchObject({ code: 'BAD_SIGNATURE' });
    // Neither moved the seq: the genuine push (101) still applies.
    expect((await b('/v1/oracle/trust', { method: 'POST', body: signed })).status).toBe(200);
  });
});

describe('oracle spot-check re-runs through the Worker gateway (workerd, two isolates)', () => {
  const rerun = (o: { targetNodeId: string; signer?: NodeKeyPair }) =>
    signRerun({
      oracle: o.signer ?? oracle,
      targetNodeId: o.targetNodeId,
      request: {
        kind: 'tensors',
        modelName: MODEL.name,
        modelVersion: MODEL.version,
        inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: [1] }],
      },
      nowMs: Date.now(),
    });

  it('forwards a re-run to the node its shard holds (here unreachable), each nonce once at either isolate', async () => {
    const signed = await rerun({ targetNodeId: nodes[0]!.keys.nodeId });
    const first = await a('/v1/oracle/rerun', { method: 'POST', body: signed });
    // The node registered at a name that does not resolve: found in its shard, forwarded, unreachable.
    expect(first.status).toBe(502);
    expect(await errorOf(first)).toMatchObject({
      code: 'NODE_FAILED',
      message: expect.stringContaining(`node ${nodes[0]!.keys.nodeId} unreachable`),
    });
    for (const via of [a, b]) {
      const again = await via('/v1/oracle/rerun', { method: 'POST', body: signed });
      expect(again.status).toBe(409);
      expect(await errorOf(again)).toMatchObject({ code: 'REPLAYED' });
    }
  });

  it('refuses a re-run for a node it does not hold, and one not signed by a listed oracle', async () => {
    const unknown = await a('/v1/oracle/rerun', {
      method: 'POST',
      body: await rerun({ targetNodeId: (await generateNodeKeyPair()).nodeId }),
    });
    expect(unknown.status).toBe(404);
    expect(await errorOf(unknown)).toMatchObject({ code: 'UNKNOWN_NODE' });
    const foreign = await b('/v1/oracle/rerun', {
      method: 'POST',
      body: await rerun({ targetNodeId: nodes[0]!.keys.nodeId, signer: await generateNodeKeyPair() }),
    });
    expect(foreign.status).toBe(403);
  });
});
