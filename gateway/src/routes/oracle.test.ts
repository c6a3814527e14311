import { generateNodeKeyPair, signBody, type NodeKeyPair } from '@hexedge/protocol';
import { Hono } from 'hono';
import { beforeAll, describe, expect, it } from 'vitest';
import { errorResponse } from '../http-errors.ts';
import { answered } from '../oracle-forwarder.fixtures.ts';
import { ReceiptForwarder } from '../oracle-forwarder.ts';
import { createGatewayHono, mount } from '../openapi/mount.ts';
import { nodeListRoute } from '../openapi/node-routes.ts';
import { nodeListHandler, oracleTrustHandler, placementTrustSink, type TrustTarget } from './oracle.ts';

const NOW = 1_750_000_000_000;
let oracle: NodeKeyPair, stranger: NodeKeyPair, known: NodeKeyPair;

const CLAIM = { lat: 52.37, lng: 4.9, claimedAtMs: NOW - 60_000 };

class FakePlacement implements TrustTarget {
  readonly trust = new Map<string, { score: number; reasons?: string[] }>();
  readonly node = {
    location: { lat: CLAIM.lat, lng: CLAIM.lng },
    locationVerified: false,
    registeredAtMs: CLAIM.claimedAtMs,
    locationChangedAtMs: null as number | null,
  };
  readonly registry = { get: (id: string) => (id === known.nodeId ? this.node : undefined) };
  setTrust(nodeId: string, score: number, reasons?: string[]) {
    this.trust.set(nodeId, { score, ...(reasons ? { reasons } : {}) });
  }
  markLocationVerified() {
    this.node.locationVerified = true;
  }
  markLocationUnverified() {
    this.node.locationVerified = false;
  }
}

beforeAll(async () => {
  [oracle, stranger, known] = await Promise.all([
    generateNodeKeyPair(),
    generateNodeKeyPair(),
    generateNodeKeyPair(),
  ]);
});

function trustApp(placement = new FakePlacement()) {
  const app = new Hono();
  app.onError((err, c) => errorResponse(c, err));
  app.post(
    '/v1/oracle/trust',
    oracleTrustHandler({
      placement: placementTrustSink(placement),
      oracleIds: [oracle.nodeId],
      nowMs: () => NOW,
    }),
  );
  return { app, placement };
}
const push = (
  signer: NodeKeyPair,
  body: Partial<{ seq: number; issuedAtMs: number; scores: unknown[] }> = {},
) =>
  signBody(
    'oracle-trust',
    { type: 'oracle-trust', nodeId: signer.nodeId, issuedAtMs: NOW, seq: 1, scores: [], ...body },
    signer.privateKey,
  );
const post = async (app: Hono, message: unknown) => {
  const res = await app.request('/v1/oracle/trust', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(message),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

describe('POST /v1/oracle/trust', () => {
  it('applies a configured oracle’s signed scores to known nodes and skips unknown ones', async () => {
    const { app, placement } = trustApp();
    const other = stranger.nodeId;
    const scores = [
      {
        nodeId: known.nodeId,
        score: 0.08,
        reasons: ['spot checks 0 passed / 1 failed, 1 FRAUD'],
        locationVerified: true,
        verifiedClaim: CLAIM,
      },
      { nodeId: other, score: 0.9, reasons: [], locationVerified: false },
    ];
    expect(await post(app, await push(oracle, { scores }))).toEqual({
      status: 200,
      body: { seq: 1, applied: 1, ignored: [other] },
    });
    expect(placement.trust.get(known.nodeId)).toEqual({
      score: 0.08,
      reasons: ['spot checks 0 passed / 1 failed, 1 FRAUD'],
    });
    expect(placement.node.locationVerified).toBe(true);
    expect(placement.trust.has(other)).toBe(false);
  });

  it('keeps a node with no verified work on probation, and applies a location verdict only to the claim it judged', async () => {
    const { app, placement } = trustApp();
    const entry = (extra: Record<string, unknown>) => ({
      nodeId: known.nodeId,
      score: 0.6,
      reasons: ['unknown'],
      locationVerified: true,
      ...extra,
    });
    // On probation: the score is not applied (placement keeps it unknown), the verified claim is.
    expect(
      (
        await post(
          app,
          await push(oracle, { seq: 1, scores: [entry({ probation: true, verifiedClaim: CLAIM })] }),
        )
      ).status,
    ).toBe(200);
    expect(placement.trust.has(known.nodeId)).toBe(false);
    expect(placement.node.locationVerified).toBe(true);
    // The node moved: a push that verified the old claim does not verify the new one…
    placement.node.location = { lat: 50.11, lng: 8.68 };
    placement.node.locationChangedAtMs = NOW;
    placement.node.locationVerified = false;
    await post(app, await push(oracle, { seq: 2, scores: [entry({ verifiedClaim: CLAIM })] }));
    expect(placement.node.locationVerified).toBe(false);
    // …nor does the old place claimed again later (a new claim is a new claim), nor a push naming no claim.
    placement.node.location = { lat: CLAIM.lat, lng: CLAIM.lng };
    placement.node.locationChangedAtMs = NOW + 1;
    await post(app, await push(oracle, { seq: 3, scores: [entry({ verifiedClaim: CLAIM })] }));
    await post(app, await push(oracle, { seq: 4, scores: [entry({})] }));
    expect(placement.node.locationVerified).toBe(false);
    // The oracle judging the current claim verified, then impossible.
    const current = { ...CLAIM, claimedAtMs: NOW + 1 };
    await post(app, await push(oracle, { seq: 5, scores: [entry({ verifiedClaim: current })] }));
    expect(placement.node.locationVerified).toBe(true);
    await post(
      app,
      await push(oracle, { seq: 6, scores: [entry({ locationVerified: false, verifiedClaim: current })] }),
    );
    expect(placement.node.locationVerified).toBe(false);
  });

  it('refuses replays, stale pushes, strangers, forged signatures and malformed scores, applying nothing', async () => {
    const { app, placement } = trustApp();
    const scores = [{ nodeId: known.nodeId, score: 0.7, reasons: [], locationVerified: false }];
    const first = await push(oracle, { seq: 5, scores });
    expect((await post(app, first)).status).toBe(200);
    expect((await post(app, first)).body).toMatchObject({ error: { code: 'REPLAYED' } });
    expect((await post(app, await push(oracle, { seq: 4, scores }))).body).toMatchObject({
      error: { code: 'REPLAYED' },
    });
    expect(
      (await post(app, await push(oracle, { seq: 6, issuedAtMs: NOW - 61_000, scores }))).body,
    ).toMatchObject({ error: { code: 'STALE_MESSAGE' } });
    expect(
      (await post(app, await push(oracle, { seq: 7, issuedAtMs: NOW + 31_000, scores }))).body,
    ).toMatchObject({ error: { code: 'STALE_MESSAGE' } });
    expect((await post(app, await push(stranger, { seq: 8, scores }))).status).toBe(403);
    const forged = {
      ...(await push(oracle, { seq: 9, scores })),
      signature: (await push(stranger, { seq: 9, scores })).signature,
    };
    expect((await post(app, forged)).body).toMatchObject({ error: { code: 'BAD_SIGNATURE' } });
    expect(
      (
        await post(
          app,
          await push(oracle, {
            seq: 10,
            scores: [{ nodeId: known.nodeId, score: 1.5, reasons: [], locationVerified: false }],
          }),
        )
      ).status,
    ).toBe(400);
    expect(placement.trust.get(known.nodeId)?.score).toBe(0.7);
  });
});

describe('GET /v1/nodes', () => {
  it('lists healthy nodes in id order, page by page', async () => {
    const node = (id: string) => ({
      id,
      url: `http://${id}.test`,
      location: { lat: 52, lng: 5 },
      cell: 'c',
      locationVerified: false,
      models: [{ name: 'm', version: '1', ready: true }],
    });
    // Mounted through its route definition, as the app does: the route checks `limit` and `after`.
    const app = createGatewayHono();
    app.onError((err, c) => errorResponse(c, err));
    mount(app, nodeListRoute, nodeListHandler({ healthyNodes: () => ['c', 'a', 'b'].map(node) as never }));
    const page1 = (await (await app.request('/v1/nodes?limit=2')).json()) as {
      nodes: Array<{ id: string }>;
      next: string;
    };
    expect(page1.nodes.map((n) => n.id)).toEqual(['a', 'b']);
    const page2 = (await (await app.request(`/v1/nodes?limit=2&after=${page1.next}`)).json()) as {
      nodes: Array<{ id: string; url: string }>;
      next: null;
    };
    expect(page2).toMatchObject({ nodes: [{ id: 'c', url: 'http://c.test', lat: 52, lng: 5 }], next: null });
    expect((await app.request('/v1/nodes?limit=0')).status).toBe(400);
  });
});

describe('ReceiptForwarder', () => {
  it('posts signed receipt reports in batches, with flat tensors, and drops what does not fit its queue', async () => {
    const posts: Array<Array<{ body: Record<string, unknown>; signature: string }>> = [];
    const fakeFetch = (async (_url: string, init: RequestInit) => {
      posts.push(JSON.parse(init.body as string));
      return new Response(JSON.stringify({ accepted: posts.at(-1)!.length }), { status: 202 });
    }) as typeof fetch;
    const batching = new ReceiptForwarder({
      oracleUrl: 'http://oracle.test',
      keys: known,
      fetch: fakeFetch,
      batchSize: 2,
    });
    for (let i = 0; i < 5; i++) batching.onAnswered(...answered(i));
    await batching.flush();
    expect(posts.map((p) => p.length)).toEqual([2, 2, 1]);
    expect(batching.stats).toMatchObject({ queued: 5, forwarded: 5, dropped: 0 });

    const bounded = new ReceiptForwarder({
      oracleUrl: 'http://oracle.test',
      keys: known,
      fetch: fakeFetch,
      maxQueued: 3,
      batchSize: 10,
    });
    for (let i = 0; i < 5; i++) bounded.onAnswered(...answered(i));
    await bounded.flush();
    expect(posts.at(-1)).toHaveLength(3);
    expect(bounded.stats).toMatchObject({ queued: 3, forwarded: 3, dropped: 2 });
    const report = posts[0]![0]!.body;
    expect(report).toMatchObject({
      type: 'receipt',
      nodeId: known.nodeId,
      request: { kind: 'tensors', modelName: 'm', modelVersion: '1', inputs: [{ data: [0, 2] }] },
      result: { kind: 'tensors' },
    });
  });

  it('never throws into the request path when the oracle is down', async () => {
    const forwarder = new ReceiptForwarder({
      oracleUrl: 'http://oracle.test',
      keys: known,
      fetch: (async () => Promise.reject(new Error('ECONNREFUSED'))) as typeof fetch,
    });
    forwarder.onAnswered(...answered(1));
    await forwarder.flush();
    expect(forwarder.stats).toMatchObject({ failedPosts: 1, dropped: 1, forwarded: 0 });
  });
});
