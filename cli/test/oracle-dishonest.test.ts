import { answerChallenge, answerProbe } from '@hexedge/coverage-oracle';
import { loadOrCreateOracleKey } from '@hexedge/coverage-oracle/node';
import { buildComfortIndexModel, comfortIndexManifest, createOipApp, GatewayAgent, ModelSet, type LoadedModel } from '@hexedge/edge-node';
import { OrtNodeBackend } from '@hexedge/edge-node/node';
import {
  coverageProxyHandler,
  createGatewayApp,
  KeyRing,
  localPlacement,
  MemoryKeyStore,
  MemoryModelCatalog,
  nodeListHandler,
  oracleTrustHandler,
  ReceiptForwarder,
} from '@hexedge/gateway';
import { Placement } from '@hexedge/placement';
import { generateNodeKeyPair, inferRequestSchema, tensorValuesToArray, type InferRequest, type InferResponse, type LatLng, type NodeKeyPair } from '@hexedge/protocol';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOracle, type RunningOracle } from '../src/commands/oracle.ts';
import { parseOracleServiceConfig } from '../src/config/oracle-config.ts';
import { listenHttp, type HttpListener } from '../src/listen-http.ts';

/**
 * The oracle catches a dishonest node end to end, every service on a real 127.0.0.1 socket: a gateway
 * with placement, four edge nodes serving comfort-index (one of them alters its outputs and signs
 * receipts over the altered values, as a cheating operator would), and the oracle service sampling
 * every receipt. The node is caught by a spot check, slashed once per piece of evidence, its trust is
 * pushed to the gateway, and it gets no more traffic that asks for trusted nodes.
 */
const API_KEY = 'oracle-e2e-key-0123';
const dir = mkdtempSync(path.join(os.tmpdir(), 'hexedge-oracle-e2e-'));
const HERE: LatLng = { lat: 52.37, lng: 4.9 };
// The liar sits where the requests come from, so placement sends it traffic first.
const PLACES: LatLng[] = [HERE, { lat: 52.38, lng: 4.92 }, { lat: 52.35, lng: 4.88 }, { lat: 52.36, lng: 4.93 }];
/** Output probabilities shifted this much: far beyond comfort-index's 1e-5 tolerance. */
const TAMPER = 0.25;

const stack: Array<() => Promise<unknown>> = [];
const controller = new AbortController();
let oracle: RunningOracle;
let gatewayUrl: string;
let placement: Placement;
let forwarder: ReceiptForwarder;
let nodes: NodeKeyPair[];
let liar: string;
const served: Array<{ request: InferRequest; response: InferResponse }> = [];

/** What a dishonest operator runs: the real model, with outputs altered before they are signed. */
function tampered(model: LoadedModel): LoadedModel {
  return {
    manifest: model.manifest,
    executionProvider: model.executionProvider,
    release: () => model.release(),
    run: async (inputs, names) => (await model.run(inputs, names)).map((t) => ({ ...t, data: Float32Array.from(tensorValuesToArray(t.data) as number[], (v) => v + TAMPER) })),
  };
}

async function waitFor<T>(what: string, probe: () => T | Promise<T>, timeoutMs = 15_000): Promise<Exclude<T, false | null | undefined>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value as Exclude<T, false | null | undefined>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function infer(policy?: Record<string, unknown>) {
  const body = { model: 'comfort-index', location: HERE, inputs: [{ name: 'readings', datatype: 'FP32', shape: [1, 3], data: [29, 55, 900] }], ...(policy ? { policy } : {}) };
  const res = await fetch(`${gatewayUrl}/v1/infer`, { method: 'POST', headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as InferResponse };
}

const nodeReport = async (nodeId: string) => (await (await fetch(`${oracle.url}/v1/oracle/nodes/${nodeId}`)).json()) as {
  trust: { score: number; reasons: string[] };
  spotChecks: Array<{ status: string; reason?: string }>;
  verdicts: Array<{ kind: string; status: string }>;
  stake: { balanceBaseUnits: string; slashes: Array<{ evidenceId: string; amountBaseUnits: string }> };
};

beforeAll(async () => {
  const bytes = buildComfortIndexModel();
  const manifest = await comfortIndexManifest(bytes);
  const backend = await OrtNodeBackend.create();
  nodes = await Promise.all(PLACES.map(() => generateNodeKeyPair()));
  liar = nodes[0]!.nodeId;
  const oracleDir = path.join(dir, 'oracle');
  const { keys: oracleKeys } = await loadOrCreateOracleKey(oracleDir);
  const gatewayReportKey = await generateNodeKeyPair();

  // The oracle first: the gateway needs its URL, and learns of the gateway once that listens.
  const config = parseOracleServiceConfig({
    overrides: {
      port: 0,
      dataDir: oracleDir,
      gatewayUrls: [],
      gatewayReporterIds: [gatewayReportKey.nodeId],
      location: HERE,
      challengeIntervalMs: 2_000,
      challengersPerNode: 4,
      directoryRefreshMs: 300,
      trustPushIntervalMs: 200,
      fullTrustPushIntervalMs: 2_000,
      exportIntervalMs: 0,
      oracle: { samplingRate: 1, checkersPerSample: 3, minCheckerResponses: 2, scoreIntervalMs: 200, idleMs: 50 },
    },
  });
  oracle = await startOracle(config, () => {});
  stack.push(() => oracle.stop());
  oracle.service.oracle.ledger.bond({ nodeId: liar, amountBaseUnits: 1000n, atMs: Date.now() });

  placement = new Placement({ heartbeatIntervalMs: 1_000, assumeLocationsVerified: true });
  const keys = new KeyRing({ store: new MemoryKeyStore() });
  await keys.adopt(API_KEY, { name: 'e2e', role: 'admin' });
  const catalog = new MemoryModelCatalog();
  catalog.add(manifest, bytes);
  const { app, service } = createGatewayApp({ placement, keys, catalog });
  app.post('/v1/oracle/trust', oracleTrustHandler({ placement, oracleIds: [oracleKeys.nodeId] }));
  app.get('/v1/nodes', nodeListHandler(localPlacement(placement)));
  app.get('/v1/coverage', coverageProxyHandler({ oracleUrl: oracle.url }));
  forwarder = new ReceiptForwarder({ oracleUrl: oracle.url, keys: gatewayReportKey, batchSize: 10 });
  const forwarding = forwarder.run(controller.signal, 100);
  stack.push(() => forwarding);
  // The hook InferService calls once a receipt is checked (see the report: an `onAnswered` option).
  const infer = service.infer.bind(service);
  service.infer = async (body, caller) => {
    const answer = await infer(body, caller);
    if (!answer.replayed) forwarder.onAnswered(inferRequestSchema.parse(body), answer.response);
    return answer;
  };
  const gateway = await listenHttp({ app, port: 0, host: '127.0.0.1' });
  stack.push(() => gateway.close());
  gatewayUrl = gateway.url;
  config.gatewayUrls.push(gatewayUrl);

  for (const [i, node] of nodes.entries()) {
    const models = new ModelSet({ scheduler: { maxQueueDelayUs: 500 } });
    const loaded = await backend.load({ manifest, bytes });
    models.add(node.nodeId === liar ? tampered(loaded) : loaded);
    const location = PLACES[i]!;
    const nodeApp = createOipApp({
      models,
      keys: node,
      isReady: () => true,
      oracle: {
        answerChallenge: (raw) => answerChallenge(raw, node),
        answerProbe: (raw) => answerProbe(raw, { node, location, oracleIds: [oracleKeys.nodeId], fetch }),
      },
    });
    const listener: HttpListener = await listenHttp({ app: nodeApp, port: 0, host: '127.0.0.1' });
    stack.push(async () => (await listener.close(), await models.releaseAll()));
    const agent = new GatewayAgent({
      gatewayUrl,
      keys: node,
      publicUrl: listener.url,
      location,
      hardware: { cpuCores: 1, memoryMb: 512, executionProviders: ['cpu'] },
      models: () => models.describe(),
      log: () => {},
    });
    const running = agent.run(controller.signal);
    stack.push(() => running);
  }
  await waitFor('the oracle to list all four nodes', () => oracle.service.directory.listNodes().length === 4);
}, 60_000);

afterAll(async () => {
  // The oracle first, so no spot check or challenge is in flight towards a node that is shutting down.
  await oracle?.stop();
  controller.abort();
  for (const close of stack.reverse()) await close().catch(() => {});
  rmSync(dir, { recursive: true, force: true });
});

describe('oracle service: a dishonest node is caught and loses traffic', () => {
  it('reads tolerances from the gateway and serves its identity and coverage through the gateway', async () => {
    expect(oracle.service.tolerances.toleranceFor('comfort-index', '1')).toBe(1e-5);
    expect(await (await fetch(`${oracle.url}/v1/oracle/identity`)).json()).toMatchObject({ oracleId: oracle.oracleId, algorithm: 'Ed25519' });
    const coverage = await fetch(`${gatewayUrl}/v1/coverage?lat=${HERE.lat}&lng=${HERE.lng}`);
    expect(coverage.status).toBe(200);
    expect(await coverage.json()).toMatchObject({ truncated: false });
  });

  it('catches the altered outputs with a spot check, slashes the node and pushes its trust to placement', async () => {
    // Until the liar has served a few requests (placement prefers it: it is nearest).
    for (let i = 0; i < 40 && served.filter((s) => s.response.node.id === liar).length < 3; i++) {
      const { status, body } = await infer();
      expect(status).toBe(200);
      served.push({ request: inferRequestSchema.parse({ model: 'comfort-index', location: HERE, inputs: [{ name: 'readings', datatype: 'FP32', shape: [1, 3], data: [29, 55, 900] }] }), response: body });
    }
    expect(served.some((s) => s.response.node.id === liar)).toBe(true);

    const report = await waitFor('a fraud verdict', async () => {
      const r = await nodeReport(liar);
      return r.spotChecks.some((v) => v.status === 'fraud') && r;
    });
    expect(report.spotChecks.find((v) => v.status === 'fraud')).toMatchObject({ reason: 'OUTPUT_MISMATCH' });
    const slashes = report.stake.slashes;
    expect(slashes.length).toBeGreaterThanOrEqual(1);
    expect(new Set(slashes.map((s) => s.evidenceId)).size).toBe(slashes.length);
    expect(BigInt(report.stake.balanceBaseUnits)).toBeLessThan(1000n);

    // The oracle pushed the score over HTTP, signed; placement holds it with its reasons.
    const trust = await waitFor('the liar’s trust to reach placement', () => {
      const t = placement.getTrust(liar);
      return t.score <= 0.1 && t;
    });
    expect(trust.reasons.join(' ')).toMatch(/FRAUD/);
  });

  it('never slashes twice for the same evidence', async () => {
    const caught = served.find((s) => s.response.node.id === liar)!;
    const { store } = oracle;
    const verified = () => store.listReports({ afterSeq: store.getCursor('verify'), limit: 1 }).length === 0;
    await forwarder.flush();
    await waitFor('every forwarded receipt to be verified', verified);
    const slashesBefore = (await nodeReport(liar)).stake.slashes.length;
    forwarder.onAnswered(caught.request, caught.response);
    await forwarder.flush();
    await waitFor('the re-forwarded receipt to be verified', verified);
    expect((await nodeReport(liar)).stake.slashes.length).toBe(slashesBefore);
  });

  it('routes requests that ask for trusted nodes only to honest nodes, which keep serving', async () => {
    const servedBy = new Set<string>();
    for (let i = 0; i < 12; i++) {
      const { status, body } = await infer({ minTrust: 0.3 });
      expect(status).toBe(200);
      servedBy.add(body.node.id);
    }
    expect(servedBy.has(liar)).toBe(false);
    expect(servedBy.size).toBeGreaterThanOrEqual(1);
    // Without a policy too: a node the oracle scored below the trust floor gets no traffic at all.
    expect(placement.getTrust(liar).score).toBeLessThanOrEqual(0.1);
    expect(placement.candidates({ location: HERE, model: 'comfort-index', k: 4 }).map((c) => c.node.id)).not.toContain(liar);
    for (const honest of nodes.slice(1)) expect(placement.getTrust(honest.nodeId).score).toBeGreaterThan(0.3);
    // The latency challenges (the oracle's own and those it asks nodes to make) reach the honest nodes.
    await waitFor('an answered challenge', async () => (await nodeReport(nodes[1]!.nodeId)).verdicts.some((v) => v.kind === 'availability' && v.status === 'up'));
  });
});
