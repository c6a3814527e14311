import { oracleServiceConfigSchema } from '@hexedge/coverage-oracle';
import type { RunningOracle } from '@hexedge/coverage-oracle/node';
import {
  buildComfortIndexModel,
  comfortIndexManifest,
  createOipApp,
  GatewayAgent,
  ModelSet,
  nodeConfigSchema,
} from '@hexedge/edge-node';
import { buildEdgeNode, loadNodeKey, OrtNodeBackend, writeModel } from '@hexedge/edge-node/node';
import { gatewayConfigSchema, signReceiptReport } from '@hexedge/gateway';
import { buildGateway, REPORT_KEY_FILE } from '@hexedge/gateway/node';
import {
  answerChallenge,
  inferRequestSchema,
  REPORTS_PATH,
  type InferRequest,
  type InferResponse,
  type LatLng,
} from '@hexedge/protocol';
import { listenHttp, readKeyFile } from '@hexedge/protocol/node';
import { waitUntil } from '@hexedge/test-kit';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeInit } from '../src/commands/node-init.ts';
import { buildOracleDeployable } from '../src/oracle-deployable.ts';
// What a dishonest operator runs: the real model, with outputs altered (by TAMPER) before they are signed.
import { tampered } from './trust-fabric.ts';

/**
 * The oracle catches a dishonest node end to end, each part built by its deployable's own builder
 * (the oracle's, the gateway's, the edge node's — what `hexedge oracle`, `hexedge gateway` and
 * `hexedge node run` run) on real 127.0.0.1 sockets: three honest nodes serving comfort-index and one
 * cheater, which runs the real model and alters its outputs before signing the receipts, as a cheating
 * operator would (its wiring is the attacker's own, below). The cheater is caught by a spot check,
 * slashed once per piece of evidence, its trust is pushed to the gateway, and it gets no more traffic.
 */
const ADMIN_KEY = 'oracle-e2e-admin-key-0123';
const dir = mkdtempSync(path.join(os.tmpdir(), 'hexedge-oracle-e2e-'));
const HERE: LatLng = { lat: 52.37, lng: 4.9 };
// The liar sits where the requests come from, so placement sends it traffic first.
const LIAR_PLACE: LatLng = HERE;
const HONEST_PLACES: LatLng[] = [
  { lat: 52.38, lng: 4.92 },
  { lat: 52.35, lng: 4.88 },
  { lat: 52.36, lng: 4.93 },
];
const READINGS = {
  model: 'comfort-index',
  location: HERE,
  inputs: [{ name: 'readings', datatype: 'FP32', shape: [1, 3], data: [29, 55, 900] }],
};

const stopping = new AbortController();
const stack: Array<() => Promise<unknown>> = [];
let oracle: RunningOracle;
let gatewayUrl: string;
let liar: string;
const honest: string[] = [];
const served: Array<{ request: InferRequest; response: InferResponse }> = [];

async function infer(policy?: Record<string, unknown>) {
  const res = await fetch(`${gatewayUrl}/v1/infer`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ ...READINGS, ...(policy ? { policy } : {}) }),
  });
  return { status: res.status, body: (await res.json()) as InferResponse };
}

const nodeReport = async (nodeId: string) =>
  (await (await fetch(`${oracle.url}/v1/oracle/nodes/${nodeId}`)).json()) as {
    trust: { score: number; reasons: string[] };
    spotChecks: Array<{ status: string; reason?: string }>;
    verdicts: Array<{ kind: string; status: string }>;
    stake: { balanceBaseUnits: string; slashes: Array<{ evidenceId: string; amountBaseUnits: string }> };
  };
const gatewayTrust = async (nodeId: string) =>
  (
    (await (await fetch(`${gatewayUrl}/v1/nodes/${nodeId}`)).json()) as {
      trust: { score: number; reasons: string[]; probation: boolean };
    }
  ).trust;

beforeAll(async () => {
  const modelsDir = path.join(dir, 'models');
  const bytes = buildComfortIndexModel();
  const manifest = await comfortIndexManifest(bytes);
  await writeModel({ dir: modelsDir, manifest, bytes });

  // The oracle first: the gateway needs its URL and id; the oracle learns of the gateway (and its
  // report key, from the gateway's identity) once that listens.
  oracle = await buildOracleDeployable(
    oracleServiceConfigSchema.parse({
      port: 0,
      dataDir: path.join(dir, 'oracle'),
      gatewayUrls: [],
      location: HERE,
      challengeIntervalMs: 2_000,
      challengersPerNode: 4,
      directoryRefreshMs: 300,
      trustPushIntervalMs: 200,
      fullTrustPushIntervalMs: 2_000,
      exportIntervalMs: 0,
      oracle: {
        samplingRate: 1,
        checkersPerSample: 3,
        minCheckerResponses: 2,
        scoreIntervalMs: 200,
        idleMs: 50,
      },
    }),
    // The referee, as `hexedge oracle` wires it: no node here has standing to check others.
    { signal: stopping.signal },
  );
  const gateway = await buildGateway(
    gatewayConfigSchema.parse({
      port: 0,
      dataDir: path.join(dir, 'gateway'),
      modelsDir,
      heartbeatIntervalMs: 1_000,
      // Every node shares this machine: there is nothing for location proofs to measure.
      assumeLocationsVerified: true,
      allowPrivateNodeAddresses: true,
      oracle: { url: oracle.url, oracleIds: [oracle.oracleId] },
    }),
    { adminKey: ADMIN_KEY },
    { signal: stopping.signal },
  );
  gatewayUrl = gateway.url;
  await oracle.addGatewayUrl(gatewayUrl);

  for (const [i, place] of HONEST_PLACES.entries()) {
    const dataDir = path.join(dir, 'nodes', `honest-${i}`);
    const { nodeId } = await nodeInit({ dataDir, ...place, gatewayUrl });
    const config = nodeConfigSchema.parse({
      location: place,
      gatewayUrl,
      port: 0,
      modelsDir,
      oracleIds: [oracle.oracleId],
    });
    await buildEdgeNode(config, { dataDir, signal: stopping.signal });
    honest.push(nodeId);
  }

  // The cheater: its own wiring of the real parts, as an attacker would run them.
  const liarDir = path.join(dir, 'nodes', 'liar');
  liar = (await nodeInit({ dataDir: liarDir, ...LIAR_PLACE, gatewayUrl })).nodeId;
  const keys = await loadNodeKey(liarDir);
  const models = new ModelSet({ scheduler: { maxQueueDelayUs: 500 } });
  models.add(tampered(await (await OrtNodeBackend.create()).load({ manifest, bytes })));
  const listener = await listenHttp({
    app: createOipApp({
      models,
      keys,
      isReady: () => true,
      oracle: { answerChallenge: (raw) => answerChallenge(raw, keys) },
    }),
    port: 0,
    host: '127.0.0.1',
  });
  stack.push(async () => (await listener.close(), await models.releaseAll()));
  const agent = new GatewayAgent({
    gatewayUrl,
    keys,
    publicUrl: listener.url,
    location: LIAR_PLACE,
    hardware: { cpuCores: 1, memoryMb: 512, executionProviders: ['cpu'] },
    models: () => models.describe(),
    log: () => {},
  });
  const running = agent.run(stopping.signal);
  stack.push(() => running);
  oracle.service.oracle.ledger.bond({ nodeId: liar, amountBaseUnits: 1000n, atMs: Date.now() });
  await waitUntil(
    'the oracle to list all four nodes',
    () => oracle.service.directory.listNodes().length === 4,
  );
}, 60_000);

afterAll(async () => {
  // The oracle first, so no spot check or challenge is in flight towards a node that is shutting down.
  await oracle?.stop();
  stopping.abort();
  for (const close of stack.reverse()) await close().catch(() => {});
  rmSync(dir, { recursive: true, force: true });
});

describe('oracle service: a dishonest node is caught and loses traffic', () => {
  it('reads tolerances from the gateway and serves its identity and coverage through the gateway', async () => {
    await waitUntil(
      "comfort-index's tolerance from the gateway's catalogue",
      () => oracle.service.catalogue.toleranceFor('comfort-index', '1') === 1e-5,
    );
    expect(await (await fetch(`${oracle.url}/v1/oracle/identity`)).json()).toMatchObject({
      oracleId: oracle.oracleId,
      algorithm: 'Ed25519',
    });
    const coverage = await fetch(`${gatewayUrl}/v1/coverage?lat=${HERE.lat}&lng=${HERE.lng}`);
    expect(coverage.status).toBe(200);
    expect(await coverage.json()).toMatchObject({ truncated: false });
  });

  it('catches the altered outputs with a spot check, slashes the node and pushes its trust to the gateway', async () => {
    // Until the liar has served a few requests (placement prefers it: it is nearest).
    for (let i = 0; i < 40 && served.filter((s) => s.response.node.id === liar).length < 3; i++) {
      const { status, body } = await infer();
      expect(status).toBe(200);
      served.push({ request: inferRequestSchema.parse(READINGS), response: body });
    }
    expect(served.some((s) => s.response.node.id === liar)).toBe(true);

    const report = await waitUntil('a fraud verdict', async () => {
      const r = await nodeReport(liar);
      return r.spotChecks.some((v) => v.status === 'fraud') && r;
    });
    expect(report.spotChecks.find((v) => v.status === 'fraud')).toMatchObject({ reason: 'OUTPUT_MISMATCH' });
    const slashes = report.stake.slashes;
    expect(slashes.length).toBeGreaterThanOrEqual(1);
    expect(new Set(slashes.map((s) => s.evidenceId)).size).toBe(slashes.length);
    expect(BigInt(report.stake.balanceBaseUnits)).toBeLessThan(1000n);

    // The gateway's own forwarder fed the oracle; the oracle pushed the score back over HTTP, signed.
    const trust = await waitUntil('the liar’s trust to reach the gateway', async () => {
      const t = await gatewayTrust(liar);
      return t.score <= 0.1 && t;
    });
    expect(trust.reasons.join(' ')).toMatch(/FRAUD/);
  });

  it('never slashes twice for the same evidence', async () => {
    const caught = served.find((s) => s.response.node.id === liar)!;
    const { store } = oracle;
    const verified = () => store.listReports({ afterSeq: store.getCursor('verify'), limit: 1 }).length === 0;
    await waitUntil('every forwarded receipt to be verified', verified);
    const slashesBefore = (await nodeReport(liar)).stake.slashes.length;
    // The same receipt again, as a gateway would re-send it: a new report, the same evidence.
    const reportKey = (await readKeyFile(path.join(dir, 'gateway', REPORT_KEY_FILE)))!.keys;
    const res = await fetch(new URL(REPORTS_PATH, oracle.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(await signReceiptReport(caught, reportKey)),
    });
    expect(res.status).toBe(202);
    await waitUntil('the re-sent receipt to be verified', verified);
    expect((await nodeReport(liar)).stake.slashes.length).toBe(slashesBefore);
  });

  it('routes requests only to honest nodes, which keep serving', async () => {
    // Without a policy: a node the oracle scored below the trust floor gets no traffic at all.
    const servedBy = new Set<string>();
    for (let i = 0; i < 12; i++) {
      const { status, body } = await infer();
      expect(status).toBe(200);
      expect(body.node.id).not.toBe(liar);
      servedBy.add(body.node.id);
    }
    // The honest nodes that served were checked (the referee agreed): their trust is known now, so a
    // request asking for a minimum trust goes to them, never to the liar (nor to a node still unknown).
    const known = await waitUntil('an honest node’s trust to be known at the gateway', async () => {
      for (const id of servedBy) if (!(await gatewayTrust(id)).probation) return id;
      return undefined;
    });
    for (let i = 0; i < 12; i++) {
      const { status, body } = await infer({ minTrust: 0.3 });
      expect(status).toBe(200);
      expect(body.node.id).not.toBe(liar);
      expect((await gatewayTrust(body.node.id)).probation).toBe(false);
    }
    expect((await gatewayTrust(known)).score).toBeGreaterThan(0.3);
    // The latency challenges (the oracle's own and those it asks nodes to make) reach the honest nodes.
    await waitUntil('an answered challenge', async () =>
      (await nodeReport(honest[0]!)).verdicts.some((v) => v.kind === 'availability' && v.status === 'up'),
    );
  });
});
