import { isValidSignature, type NodeKeyPair } from '@hexedge/protocol';
import { latLngToCell } from 'h3-js';
import { beforeAll, describe, expect, it } from 'vitest';
import { createOracleApp } from '../src/http/oracle-app.ts';
import { answerChallenge } from '@hexedge/protocol';
import {
  verifyRewardEntry,
  verifyRewardManifest,
  type SignedRewardManifest,
} from '../src/rewards/manifest.ts';
import { answerProbe, createProbe } from '@hexedge/protocol';
import { TrustPublisher } from '../src/service/trust-publisher.ts';
import { makeOracle } from './fixtures/oracle.ts';
import { keys, receiptReport as signedReceiptReport, signReport } from './fixtures/reports.ts';

const EPOCH_MS = 3_600_000;
const EPOCH = 486_000;
const T0 = EPOCH * EPOCH_MS + 600_000;
let oracleKeys: NodeKeyPair, gateway: NodeKeyPair, node: NodeKeyPair, other: NodeKeyPair;

beforeAll(async () => {
  [oracleKeys, gateway, node, other] = await keys(4);
});

function setup() {
  let now = T0;
  const env = makeOracle({ oracleKeys, nowMs: T0, config: { epochMs: EPOCH_MS, settleMs: 0 } });
  env.directory.putReporter({ nodeId: gateway.nodeId, roles: ['gateway'] });
  const app = createOracleApp({
    oracle: env.oracle,
    oracleId: oracleKeys.nodeId,
    store: env.store,
    nowMs: () => now,
  });
  const call = async (path: string, init?: RequestInit) => {
    const res = await app.request(path, init);
    return { status: res.status, text: await res.text() };
  };
  const postJson = (path: string, body: unknown) =>
    call(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  return { ...env, call, postJson, setNow: (ms: number) => (now = ms) };
}

const receiptReport = (i: number) => signedReceiptReport({ gateway, node, i, nowMs: T0 });

describe('oracle HTTP API', () => {
  it('takes reports one by one (refusals as HexEdgeError statuses) or in batches', async () => {
    const { postJson } = setup();
    const report = await receiptReport(1);
    expect((await postJson('/v1/oracle/reports', report)).status).toBe(202);
    const replay = await postJson('/v1/oracle/reports', report);
    expect(replay.status).toBe(409);
    expect(JSON.parse(replay.text)).toMatchObject({ error: { code: 'REPLAYED' } });
    const { receipt, request, result } = report.body as unknown as Record<string, unknown>;
    const stranger = await signReport(other, { type: 'receipt', receipt, request, result }, T0);
    expect((await postJson('/v1/oracle/reports', stranger)).status).toBe(404);
    const batch = await postJson('/v1/oracle/reports', [
      await receiptReport(2),
      { body: {}, signature: 'x' },
    ]);
    expect(batch.status).toBe(202);
    expect(JSON.parse(batch.text)).toMatchObject({
      accepted: 1,
      results: [{ accepted: true }, { accepted: false, code: 'INVALID_REQUEST' }],
    });
    expect((await postJson('/v1/oracle/reports', [])).status).toBe(400);
  });

  it('answers coverage by cell, point and bounded bbox', async () => {
    const { call, oracle } = setup();
    const cell = latLngToCell(52.1, 5.1, 8);
    oracle.coverage.add([
      { cell, nodeId: node.nodeId, source: 'uplink', signalDbm: -100, snrDb: 3, atMs: T0 },
    ]);
    expect(JSON.parse((await call(`/v1/coverage?cell=${cell}`)).text).cells[0].nodes[0]).toMatchObject({
      nodeId: node.nodeId,
      bestSignalDbm: -100,
    });
    expect(JSON.parse((await call('/v1/coverage?lat=52.1&lng=5.1')).text).cells).toHaveLength(1);
    expect(JSON.parse((await call('/v1/coverage?bbox=52,5,52.2,5.2')).text)).toMatchObject({
      cells: [{ cell }],
      truncated: false,
    });
    expect(JSON.parse((await call('/v1/coverage?bbox=40,0,60,20')).text)).toMatchObject({
      error: { code: 'INVALID_LOCATION' },
    });
    expect((await call('/v1/coverage?bbox=52,5,51,5.2')).status).toBe(400);
    expect((await call('/v1/coverage?cell=nope')).status).toBe(400);
    expect((await call('/v1/coverage')).status).toBe(400);
  });

  it('publishes its identity, signed manifests with per-node proofs, and per-node trust with its evidence', async () => {
    const { call, postJson, oracle, setNow, store } = setup();
    expect(JSON.parse((await call('/v1/oracle/identity')).text)).toMatchObject({
      oracleId: oracleKeys.nodeId,
      algorithm: 'Ed25519',
    });
    oracle.ledger.bond({ nodeId: node.nodeId, amountBaseUnits: 100n, atMs: T0 });
    expect((await postJson('/v1/oracle/reports', await receiptReport(3))).status).toBe(202);
    await oracle.tick(T0 + 10);
    expect((await call(`/v1/oracle/epochs/${EPOCH}/manifest`)).status).toBe(404);
    setNow((EPOCH + 1) * EPOCH_MS + 1);
    await oracle.tick((EPOCH + 1) * EPOCH_MS + 1);

    const manifest = await call(`/v1/oracle/epochs/${EPOCH}/manifest`);
    const signed = JSON.parse(manifest.text) as SignedRewardManifest;
    expect(await verifyRewardManifest(signed, oracleKeys.nodeId)).toBe(true);
    const proof = JSON.parse((await call(`/v1/oracle/epochs/${EPOCH}/proof/${node.nodeId}`)).text);
    expect(await verifyRewardEntry(proof)).toBe(true);
    // The reward stage kept the epoch's tree when it closed it: the proof built none.
    expect(store.getRewardTree(EPOCH)).toMatchObject({ merkleRoot: signed.manifest.merkleRoot });
    expect(oracle.published.stats.treesBuilt).toBe(0);
    const notRewarded = await call(`/v1/oracle/epochs/${EPOCH}/proof/${other.nodeId}`);
    expect(notRewarded.status).toBe(404);
    expect(notRewarded.text).toContain('has no entry in epoch');
    const notClosed = await call(`/v1/oracle/epochs/${EPOCH + 1}/proof/${node.nodeId}`);
    expect(notClosed.status).toBe(404);
    expect(notClosed.text).toContain(`epoch ${EPOCH + 1} is not closed`);
    expect((await call('/v1/oracle/epochs/x1/manifest')).status).toBe(400);

    const report = JSON.parse((await call(`/v1/oracle/nodes/${node.nodeId}`)).text);
    expect(report).toMatchObject({
      nodeId: node.nodeId,
      stake: { balanceBaseUnits: '100', slashes: [] },
      rewards: [{ epoch: EPOCH }],
      manifestEntry: { epoch: EPOCH },
    });
    // Work, but none of it verified: its trust is unknown, and it has no standing.
    expect(report.trust).toMatchObject({ score: null, scored: false });
    expect(report.standing).toMatchObject({ verifier: false, known: false });
    expect(JSON.parse((await call(`/v1/oracle/nodes/${other.nodeId}`)).text)).toMatchObject({
      trust: { score: null, scored: false },
      standing: { verifier: false },
      verdicts: [],
      rewards: [],
    });
  });
});

describe('trust push and probes', () => {
  it('pushes changed scores signed by the oracle, keeps them pending while the gateway is down, and re-sends all on a full push', async () => {
    const bodies: Array<{
      body: { nodeId: string; seq: number; scores: Array<{ nodeId: string; locationVerified: boolean }> };
      signature: string;
    }> = [];
    let up = false;
    const fetch = (async (_url: string, init: RequestInit) => {
      if (!up) throw new Error('ECONNREFUSED');
      bodies.push(JSON.parse(init.body as string));
      return new Response('{}', { status: 200 });
    }) as typeof globalThis.fetch;
    let now = T0;
    const publisher = new TrustPublisher({
      keys: oracleKeys,
      gatewayUrls: ['http://gw.test'],
      fetch,
      nowMs: () => now,
    });
    const claim = { lat: 52, lng: 5, claimedAtMs: T0 - 1000 };
    publisher.publish({
      nodeId: node.nodeId,
      score: 0.8,
      reasons: ['uptime 3/3 probes answered'],
      locationVerified: true,
      probation: true,
      verifiedClaim: claim,
    });
    expect(await publisher.flush()).toBe(0);
    expect(publisher.pendingCount).toBe(1);
    up = true;
    expect(await publisher.flush()).toBe(1);
    expect(await isValidSignature('oracle-trust', bodies[0]!)).toBe(true);
    expect(bodies[0]!.body.scores).toEqual([
      {
        nodeId: node.nodeId,
        score: 0.8,
        reasons: ['uptime 3/3 probes answered'],
        locationVerified: true,
        probation: true,
        verifiedClaim: claim,
      },
    ]);
    expect(await publisher.flush()).toBe(0);
    now += 10;
    expect(await publisher.flush({ fullPushIntervalMs: 1000 })).toBe(1);
    expect(bodies[1]!.body.seq).toBeGreaterThan(bodies[0]!.body.seq);
  });

  it('a node carries out a probe only for a configured oracle, fresh, and not about itself', async () => {
    const target = { nodeId: other.nodeId, url: 'http://target.test' };
    const fetch = async (_url: string, init: { body: string }) => ({
      ok: true,
      status: 200,
      json: async () => answerChallenge(JSON.parse(init.body), other),
    });
    const options = { node, location: { lat: 52, lng: 5 }, oracleIds: [oracleKeys.nodeId], fetch };
    const report = await answerProbe(
      await createProbe({ oracle: oracleKeys, target, nowMs: Date.now() }),
      options,
    );
    expect(report?.body).toMatchObject({
      type: 'location',
      nodeId: node.nodeId,
      targetNodeId: other.nodeId,
      answered: true,
    });
    expect(await isValidSignature('report', report!)).toBe(true);
    expect(
      await answerProbe(await createProbe({ oracle: other, target, nowMs: Date.now() }), options),
    ).toBeNull();
    expect(
      await answerProbe(
        await createProbe({ oracle: oracleKeys, target, nowMs: Date.now() - 60_000 }),
        options,
      ),
    ).toBeNull();
    expect(
      await answerProbe(
        await createProbe({
          oracle: oracleKeys,
          target: { nodeId: node.nodeId, url: 'http://self.test' },
          nowMs: Date.now(),
        }),
        options,
      ),
    ).toBeNull();
  });
});
