import {
  generateNodeKeyPair,
  MAX_INFER_BODY_BYTES,
  MAX_TRUST_PUSH_BYTES,
  RECEIPT_PARAMETER,
  signBody,
  exportKeyPair,
  tensorsDigest,
  type NodeKeyPair,
  type Tensor,
} from '@hexedge/protocol';
import { DeviceRegistry } from '@hexedge/firmware-bridge';
import { Placement } from '@hexedge/placement';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  checkReceipt,
  createGatewayApp,
  InferService,
  KeyRing,
  MAX_ADMIN_BODY_BYTES,
  MAX_DEVICE_BODY_BYTES,
  MAX_NODE_MESSAGE_BYTES,
  MAX_PROFILE_BODY_BYTES,
  MemoryKeyStore,
  RateLimiter,
  routeMqttRequest,
} from '../src/index.ts';
import { body, CONTENT_ID, fakeNodes, KEY, MODEL, register, type FakeNode } from './fake-nodes.ts';

/*
 * The gateway's defences, each attacked: signed receipts and oracle trust pushes with a flipped
 * byte, the wrong key or replayed; API keys revoked, out of scope, out of region and over quota;
 * every POST/PUT body over its limit (413); MQTT answers only to the sender's own topic; and the
 * structured log of a session that makes keys, registers nodes and infers holds no secret.
 */

let placement: Placement;
let near: FakeNode;
let oracle: NodeKeyPair;
let keys: KeyRing;
let logs: Record<string, unknown>[];
let now: number;
let app: ReturnType<typeof createGatewayApp>['app'];

beforeEach(async () => {
  now = Date.now();
  placement = new Placement({ heartbeatIntervalMs: 60_000 });
  near = { keys: await generateNodeKeyPair(), url: 'http://near.test', mode: 'ok' };
  oracle = await generateNodeKeyPair();
  await register(placement, near, 52.3, 4.8);
  keys = new KeyRing({ store: new MemoryKeyStore(), now: () => now });
  await keys.adopt(KEY, { name: 'admin', role: 'admin' });
  logs = [];
  app = createGatewayApp({
    placement,
    keys,
    nodeClient: fakeNodes([near]),
    limiter: new RateLimiter({ now: () => now }),
    devices: new DeviceRegistry(),
    oracle: { url: 'http://oracle.test', oracleIds: [oracle.nodeId] },
    log: (entry) => logs.push(entry),
  }).app;
});

const call = (path: string, init: RequestInit & { key?: string } = {}) =>
  app.request(path, {
    ...init,
    headers: {
      authorization: `Bearer ${init.key ?? KEY}`,
      'content-type': 'application/json',
      ...(init.headers as Record<string, string>),
    },
  });
const codeOf = async (res: Response) => ((await res.json()) as { error: { code: string } }).error.code;
const flip = (s: string, at = 30) => s.slice(0, at) + (s[at] === 'A' ? 'B' : 'A') + s.slice(at + 1);

describe('receipts (fake results)', () => {
  async function receiptFor(signer: NodeKeyPair, requestId: string, inputs: Tensor[], outputs: Tensor[]) {
    const receipt = await signBody(
      'receipt',
      {
        nodeId: near.keys.nodeId,
        requestId,
        modelName: 'm',
        modelVersion: '1',
        modelContentId: CONTENT_ID,
        inputDigest: await tensorsDigest(inputs),
        outputDigest: await tensorsDigest(outputs),
        issuedAtMs: now,
        serviceTimeMs: 1,
      },
      signer.privateKey,
    );
    return { [RECEIPT_PARAMETER]: JSON.stringify(receipt) };
  }
  const inputs: Tensor[] = [{ name: 'x', datatype: 'FP32', shape: [1], data: [1.5] }];
  const outputs: Tensor[] = [{ name: 'y', datatype: 'FP32', shape: [1], data: [3] }];
  const check = (parameters: Record<string, unknown>, requestId = 'r1', outs = outputs) =>
    checkReceipt({
      parameters,
      nodeId: near.keys.nodeId,
      requestId,
      modelName: 'm',
      modelVersion: '1',
      modelContentId: CONTENT_ID,
      digests: { kind: 'tensors', inputs, outputs: outs },
    });

  it('accepts the node’s own receipt, and refuses a flipped byte, another key, another request and another output', async () => {
    const good = await receiptFor(near.keys, 'r1', inputs, outputs);
    await expect(check(good)).resolves.toBeTruthy();
    const parsed = JSON.parse(good[RECEIPT_PARAMETER]) as {
      body: Record<string, unknown>;
      signature: string;
    };
    await expect(
      check({ [RECEIPT_PARAMETER]: JSON.stringify({ ...parsed, signature: flip(parsed.signature) }) }),
    ).rejects.toMatchObject({ code: 'RECEIPT_INVALID' });
    await expect(
      check(await receiptFor(await generateNodeKeyPair(), 'r1', inputs, outputs)),
    ).rejects.toMatchObject({ code: 'RECEIPT_INVALID' });
    // Replayed: a genuine receipt from an earlier request does not cover this one.
    await expect(check(good, 'r2')).rejects.toMatchObject({ code: 'RECEIPT_INVALID' });
    // A node that alters its answer after signing (or signs what it did not compute).
    await expect(check(good, 'r1', [{ ...outputs[0]!, data: [42] }])).rejects.toMatchObject({
      code: 'RECEIPT_INVALID',
    });
  });

  it('binds the receipt to the model asked for and the catalogue’s content id: another name, version or content id is refused', async () => {
    const signed = async (change: Record<string, unknown>) => {
      const receipt = await signBody(
        'receipt',
        {
          nodeId: near.keys.nodeId,
          requestId: 'r1',
          modelName: 'm',
          modelVersion: '1',
          modelContentId: CONTENT_ID,
          inputDigest: await tensorsDigest(inputs),
          outputDigest: await tensorsDigest(outputs),
          issuedAtMs: now,
          serviceTimeMs: 1,
          ...change,
        },
        near.keys.privateKey,
      );
      return { [RECEIPT_PARAMETER]: JSON.stringify(receipt) };
    };
    await expect(check(await signed({}))).resolves.toBeTruthy();
    for (const change of [
      { modelName: 'premium' },
      { modelVersion: '9' },
      { modelContentId: 'f'.repeat(64) },
    ])
      await expect(check(await signed(change))).rejects.toMatchObject({ code: 'RECEIPT_INVALID' });
  });

  it('fails over from a node whose receipt does not check out (gateway-app.test.ts: tamper), never returning its answer', async () => {
    near.mode = 'tamper';
    const res = await call('/v1/infer', { method: 'POST', body: body() });
    expect(res.status).toBe(502);
    expect(await codeOf(res)).toBe('NODE_FAILED');
  });
});

describe('oracle trust pushes', () => {
  const push = (seq: number, signer: NodeKeyPair = oracle, issuedAtMs = now) =>
    signBody(
      'oracle-trust',
      {
        type: 'oracle-trust',
        nodeId: oracle.nodeId,
        issuedAtMs,
        seq,
        scores: [{ nodeId: near.keys.nodeId, score: 0.9, reasons: ['ok'], locationVerified: true }],
      },
      signer.privateKey,
    );
  const send = async (message: unknown) =>
    call('/v1/oracle/trust', { method: 'POST', body: JSON.stringify(message) });

  it('refuses a flipped byte and another key (BAD_SIGNATURE), a replayed or older seq (REPLAYED), a stale push, an unknown oracle — changing no trust', async () => {
    const trustBefore = JSON.stringify(placement.getTrust(near.keys.nodeId));
    const good = await push(10);
    expect(await codeOf(await send({ ...good, signature: flip(good.signature) }))).toBe('BAD_SIGNATURE');
    expect(
      await codeOf(
        await send({ ...good, body: { ...good.body, scores: [{ ...good.body.scores[0]!, score: 1 }] } }),
      ),
    ).toBe('BAD_SIGNATURE');
    expect(await codeOf(await send(await push(11, await generateNodeKeyPair())))).toBe('BAD_SIGNATURE');
    expect(await codeOf(await send(await push(12, oracle, now - 61_000)))).toBe('STALE_MESSAGE');
    const stranger = await generateNodeKeyPair();
    expect(
      await codeOf(
        await send(
          await signBody('oracle-trust', { ...good.body, nodeId: stranger.nodeId }, stranger.privateKey),
        ),
      ),
    ).toBe('FORBIDDEN');
    expect(JSON.stringify(placement.getTrust(near.keys.nodeId))).toBe(trustBefore);
    expect(placement.registry.get(near.keys.nodeId)!.locationVerified).toBe(false);
    expect((await send(good)).status).toBe(200);
    expect(await codeOf(await send(good))).toBe('REPLAYED');
    expect(await codeOf(await send(await push(9)))).toBe('REPLAYED');
  });
});

describe('API keys (stolen, revoked, out of scope, over quota)', () => {
  const newKey = async (spec: Record<string, unknown>) =>
    (await (await call('/v1/keys', { method: 'POST', body: JSON.stringify(spec) })).json()) as {
      key: string;
      id: string;
    };

  it('a revoked key is refused everywhere at once (401), including MQTT', async () => {
    const k = await newKey({ name: 'leaked' });
    expect((await call('/v1/infer', { method: 'POST', body: body(), key: k.key })).status).toBe(200);
    expect((await call(`/v1/keys/${k.id}`, { method: 'DELETE' })).status).toBe(200);
    const res = await call('/v1/infer', { method: 'POST', body: body(), key: k.key });
    expect(res.status).toBe(401);
    expect((await call('/v1/usage', { key: k.key })).status).toBe(401);
    await expect(keys.authenticate(k.key)).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
  });

  it('a key scoped to other models gets 403, a region-bound key cannot ask for another region (403)', async () => {
    const scoped = await newKey({ name: 's', models: ['other'] });
    expect(await codeOf(await call('/v1/infer', { method: 'POST', body: body(), key: scoped.key }))).toBe(
      'FORBIDDEN',
    );
    const eu = await newKey({ name: 'eu', region: 'eu' });
    expect(
      await codeOf(
        await call('/v1/infer', { method: 'POST', body: body({ policy: { region: 'US' } }), key: eu.key }),
      ),
    ).toBe('FORBIDDEN');
    const app1 = await newKey({ name: 'app' });
    expect(
      await codeOf(
        await call('/v1/keys', {
          method: 'POST',
          body: JSON.stringify({ name: 'escalate', role: 'admin' }),
          key: app1.key,
        }),
      ),
    ).toBe('FORBIDDEN');
  });

  it('a key over its rate (429 with Retry-After) or its daily quota (429) is refused before any node is asked', async () => {
    const k = await newKey({ name: 'r', ratePerSecond: 1, burst: 1, dailyQuota: 2 });
    expect((await call('/v1/infer', { method: 'POST', body: body(), key: k.key })).status).toBe(200);
    const limited = await call('/v1/infer', { method: 'POST', body: body(), key: k.key });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('Retry-After')).toBeTruthy();
    now += 1000;
    expect((await call('/v1/infer', { method: 'POST', body: body(), key: k.key })).status).toBe(200);
    now += 1000;
    const over = await call('/v1/infer', { method: 'POST', body: body(), key: k.key });
    expect(over.status).toBe(429);
    expect(((await over.json()) as { error: { message: string } }).error.message).toMatch(/quota/i);
  });
});

describe('size limits on every body', () => {
  const over = (limit: number) => `{"pad":"${'x'.repeat(limit)}"}`;
  it.each([
    ['POST', '/v1/infer', MAX_INFER_BODY_BYTES],
    ['POST', '/v1/nodes/register', MAX_NODE_MESSAGE_BYTES],
    ['POST', '/v1/nodes/heartbeat', MAX_NODE_MESSAGE_BYTES],
    ['POST', '/v1/keys', MAX_ADMIN_BODY_BYTES],
    ['POST', '/v1/oracle/trust', MAX_TRUST_PUSH_BYTES],
    ['PUT', '/v1/devices/0004a30b001c0530', MAX_DEVICE_BODY_BYTES],
    ['PUT', '/v1/profiles/p1', MAX_PROFILE_BODY_BYTES],
    ['POST', '/v1/events', 64 * 1024],
  ] as const)(
    '%s %s over its limit → 413 PAYLOAD_TOO_LARGE, also without a content-length',
    async (method, path, limit) => {
      const res = await call(path, { method, body: over(limit) });
      expect(res.status).toBe(413);
      expect(await codeOf(res)).toBe('PAYLOAD_TOO_LARGE');
      // Streamed (no content-length header): counted as it arrives.
      const text = over(limit);
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          const bytes = new TextEncoder().encode(text);
          for (let at = 0; at < bytes.length; at += 1 << 20)
            controller.enqueue(bytes.subarray(at, at + (1 << 20)));
          controller.close();
        },
      });
      const streamed = await app.request(path, {
        method,
        body: stream,
        headers: { authorization: `Bearer ${KEY}` },
        duplex: 'half',
      } as RequestInit);
      expect(streamed.status).toBe(413);
    },
  );

  it('an MQTT payload over 8 MiB is refused with PAYLOAD_TOO_LARGE on the sender’s own topic', async () => {
    const service = new InferService({
      placement: { candidates: (q) => placement.candidates(q), isKnownModel: () => true },
      nodeClient: fakeNodes([near]),
    });
    const routed = routeMqttRequest(
      { topic: 'hexedge/v1/req/dev-1/1', payload: new Uint8Array(MAX_INFER_BODY_BYTES + 1) },
      { service, principalOf: (id) => ({ kind: 'device', clientId: id, id }) },
    )!;
    const answer = await routed.answer();
    expect(answer.topic).toBe('hexedge/v1/res/dev-1/1');
    expect(answer.userProperties['hexedge-error-code']).toBe('PAYLOAD_TOO_LARGE');
  });
});

describe('MQTT: answers only to the sender', () => {
  // A device reading another device's responses is refused by the broker ACL: test/mqtt-aedes.test.ts
  // ("keeps a device off another device's topics…") and access.test.ts ("confines non-admins…").
  it('a v5 request whose response topic is not under hexedge/v1/res/{clientId}/ is dropped, never answered elsewhere', async () => {
    const service = new InferService({
      placement: { candidates: (q) => placement.candidates(q), isKnownModel: () => true },
      nodeClient: fakeNodes([near]),
    });
    const options = { service, principalOf: (id: string) => ({ kind: 'device' as const, clientId: id, id }) };
    const payload = new TextEncoder().encode(body());
    for (const responseTopic of [
      'hexedge/v1/res/+/x',
      'hexedge/v1/res/#',
      'hexedge/v1/req/other/1',
      'application/x/device/y/command/down',
      'hexedge/v1/res/a/+',
      // Another client's own, well-formed tree: answering there would spoof answers to it.
      'hexedge/v1/res/b/x',
    ]) {
      expect(
        routeMqttRequest({ topic: 'hexedge/v1/infer/a/m', payload, responseTopic }, options),
        responseTopic,
      ).toBeUndefined();
    }
  });
});

describe('secrets never reach the structured log', () => {
  it('logs no admin key, app key, node private key or device password across keys, registration, heartbeat and inference', async () => {
    const created = (await (
      await call('/v1/keys', { method: 'POST', body: JSON.stringify({ name: 'app' }) })
    ).json()) as { key: string };
    expect((await call('/v1/infer', { method: 'POST', body: body(), key: created.key })).status).toBe(200);
    await call('/v1/infer', { method: 'POST', body: body(), key: `${created.key}x` });
    await call('/v1/infer', { method: 'POST', body: body({ model: 'nope' }), key: created.key });
    const stored = await exportKeyPair(near.keys);
    const registration = await signBody(
      'registration',
      {
        nodeId: near.keys.nodeId,
        issuedAtMs: Date.now() + 1,
        url: 'http://near.test',
        location: { lat: 52.3, lng: 4.8 },
        hardware: { cpuCores: 1, memoryMb: 512, executionProviders: ['cpu' as const] },
        models: [MODEL],
      },
      near.keys.privateKey,
    );
    await call('/v1/nodes/register', { method: 'POST', body: JSON.stringify(registration) });
    await call('/v1/nodes/register', {
      method: 'POST',
      body: JSON.stringify({ ...registration, signature: flip(registration.signature) }),
    });
    const devicePassword = 'device-secret-correct-horse';
    await call('/v1/devices/0004a30b001c0530', {
      method: 'PUT',
      body: JSON.stringify({ fleet: 'acme', profile: 'nope', password: devicePassword }),
    });
    const text = JSON.stringify(logs);
    expect(logs.length).toBeGreaterThan(5);
    for (const secret of [KEY, created.key, stored.privateKeyPkcs8, devicePassword])
      expect(text).not.toContain(secret);
    // Keys appear in the log only by id.
    expect(logs.some((l) => typeof l.key === 'string')).toBe(true);
  });
});
