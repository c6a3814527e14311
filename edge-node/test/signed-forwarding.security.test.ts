import { GATEWAY_IDENTITY_PATH, generateNodeKeyPair, signForward, type NodeKeyPair } from '@hexedge/protocol';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  buildComfortIndexModel,
  comfortIndexManifest,
  createOipApp,
  KnownCallers,
  ModelSet,
  NodeMetrics,
} from '../src/index.ts';
import { OrtNodeBackend, readModelDir, writeModel } from '../src/node/index.ts';

/*
 * A relay cannot sell this node's work: /infer and /predict are served only to requests a gateway or
 * oracle the node knows signed for this node, over this body (protocol's forward signature). The
 * node learns its gateway's key from the gateway's identity endpoint.
 */
const dir = mkdtempSync(path.join(os.tmpdir(), 'hexedge-forward-'));
const BODY = JSON.stringify({
  id: 'r1',
  inputs: [{ name: 'readings', datatype: 'FP32', shape: [1, 3], data: [29, 55, 900] }],
});
const PATH = '/v2/models/comfort-index/versions/1/infer';
let node: NodeKeyPair, gateway: NodeKeyPair, oracle: NodeKeyPair, stranger: NodeKeyPair, relay: NodeKeyPair;
let models: ModelSet;
let identityAsks = 0;
let callers: KnownCallers;
let app: ReturnType<typeof createOipApp>;

beforeAll(async () => {
  [node, gateway, oracle, stranger, relay] = await Promise.all(
    [1, 2, 3, 4, 5].map(() => generateNodeKeyPair()),
  );
  const bytes = buildComfortIndexModel();
  await writeModel({ dir, manifest: await comfortIndexManifest(bytes), bytes });
  models = new ModelSet({ scheduler: { maxQueueDelayUs: 500 } });
  const backend = await OrtNodeBackend.create();
  for (const a of (await readModelDir(dir)).artifacts) models.add(await backend.load(a));
  let now = 1_750_000_000_000;
  // The gateway's identity endpoint, as the node's configured gateway publishes it.
  const gatewayFetch = (async (url: string) => {
    identityAsks++;
    expect(url).toBe(`http://gw.test${GATEWAY_IDENTITY_PATH}`);
    return new Response(
      JSON.stringify({
        reporterId: gateway.nodeId,
        algorithm: 'Ed25519',
        encoding: 'base64url raw 32 bytes',
      }),
    );
  }) as typeof fetch;
  callers = new KnownCallers({
    ids: [oracle.nodeId],
    gatewayUrl: 'http://gw.test',
    fetch: gatewayFetch,
    nowMs: () => (now += 1),
  });
  app = createOipApp({ models, keys: node, isReady: () => true, callers, metrics: new NodeMetrics() });
});
afterAll(async () => {
  await models.releaseAll();
  rmSync(dir, { recursive: true, force: true });
});

const post = async (headers: Record<string, string>, body = BODY) =>
  app.request(PATH, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
const signed = (keys: NodeKeyPair, targetNodeId = node.nodeId, body = BODY) =>
  signForward({
    keys,
    targetNodeId,
    route: 'infer',
    modelName: 'comfort-index',
    modelVersion: '1',
    body,
    nowMs: Date.now(),
  });

describe('signed forwarding', () => {
  it('serves its gateway (learnt from the gateway’s identity) and its oracle', async () => {
    expect((await post(await signed(gateway))).status).toBe(200);
    expect(identityAsks).toBe(1);
    expect((await post(await signed(oracle))).status).toBe(200);
  });

  it('refuses unsigned requests, a stranger, a request signed for a relay, and a changed body, with 403', async () => {
    const unsigned = await post({});
    expect(unsigned.status).toBe(403);
    expect(((await unsigned.json()) as { code: string }).code).toBe('FORBIDDEN');
    expect((await post(await signed(stranger))).status).toBe(403);
    expect((await post(await signed(gateway, relay.nodeId))).status).toBe(403);
    expect((await post(await signed(gateway), BODY.replace('29', '31'))).status).toBe(403);
  });

  it('refuses a replay of a forward it served (the same signature, time and body), with 409 REPLAYED naming it, counted', async () => {
    const replaysCounted = async () => {
      const text = await (await app.request('/metrics')).text();
      return Number(
        /^hexedge_node_forward_replays_refused_total\{reason="replayed"\} (\d+)$/m.exec(text)?.[1] ?? 0,
      );
    };
    expect(await replaysCounted()).toBe(0);
    const headers = await signed(gateway);
    expect((await post(headers)).status).toBe(200);
    const replayed = await post(headers);
    expect(replayed.status).toBe(409);
    const refusal = (await replayed.json()) as { error: string; code: string };
    expect(refusal.code).toBe('REPLAYED');
    expect(refusal.error).toMatch(
      new RegExp(
        `^request refused: this request from ${gateway.nodeId}, forwarded at \\d+, was served already \\(a replay\\)$`,
      ),
    );
    expect(await replaysCounted()).toBe(1);
    // A fresh forward of the same body (a later millisecond) is a new request.
    const signedAt = Number(headers['x-hexedge-forward-at']);
    await vi.waitFor(() => expect(Date.now()).toBeGreaterThan(signedAt));
    expect((await post(await signed(gateway))).status).toBe(200);
  });

  it('asks its gateway again for an unknown forwarder at most every 10 s', async () => {
    const before = identityAsks;
    for (let i = 0; i < 20; i++) await callers.isKnown(stranger.nodeId);
    expect(identityAsks - before).toBeLessThanOrEqual(1);
  });
});
