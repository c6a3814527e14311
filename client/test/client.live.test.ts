import { generateNodeKeyPair, signBody } from '@hexedge/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createClient,
  HexEdgeApiError,
  verifyReceipt,
  type InferRequest,
  type InferResponse,
  type RetryEvent,
} from '../src/index.ts';
import { mqttSuite } from './live-mqtt.ts';
import { readmeSuite } from './live-readme.ts';
import { runtimeSuite } from './live-runtimes.ts';
import { ADMIN_KEY, HERE, mosquittoPart, startFabric, type Fabric } from './fabric.ts';

/**
 * @hexedge/client against the real deployables (test/fabric.ts): `hexedge gateway` with a real node
 * running comfort-index and env-occupancy on onnxruntime, and Mosquitto with the gateway's MQTT v5
 * ingress. Retries meet a real 429 (a key limited to 1 request/s) and a real 503 (the gateway takes
 * one inference at a time); deadlines meet a stream that never ends and a gateway that stopped.
 */
let fabric: Fabric;

const comfort = (extra: Partial<InferRequest> = {}): InferRequest => ({
  model: 'comfort-index',
  location: HERE,
  inputs: [
    {
      name: 'readings',
      datatype: 'FP32',
      shape: [2, 3],
      data: [
        [31, 60, 650],
        [22, 45, 1500],
      ],
    },
  ],
  ...extra,
});

beforeAll(async () => {
  if (mosquittoPart.skip) return;
  fabric = await startFabric();
}, 240_000);

afterAll(async () => {
  await fabric?.stop();
});

describe.skipIf(mosquittoPart.skip)('@hexedge/client on a live gateway and node', () => {
  const admin = () => createClient({ baseUrl: fabric.gateway.url, apiKey: ADMIN_KEY });

  it('infers, and the receipt verifies offline against the node’s key; nearest lists that node', async () => {
    const client = admin();
    const request = comfort();
    const answer = await client.infer(request);
    expect(answer.outputs?.[0]?.shape).toEqual([2, 3]);
    expect(answer.node.id).toBe(fabric.node.nodeId);
    const models = await client.models();
    const contentId = models.models.find((m) => m.name === 'comfort-index')!.contentId;
    const verdict = await verifyReceipt({
      request,
      response: answer,
      nodeId: fabric.node.nodeId,
      modelContentId: contentId,
    });
    expect(verdict).toMatchObject({ valid: true, nodeId: fabric.node.nodeId });
    const nearest = await client.nearest({ ...HERE, model: 'comfort-index' });
    expect(nearest.map((n) => n.id)).toEqual([fabric.node.nodeId]);
    expect((await client.node(fabric.node.nodeId)).status).toBe('healthy');
    expect(await client.health()).toMatchObject({ ok: true });
  });

  it('verifies a domain-input receipt (canonical JSON digests) too', async () => {
    const reading = { temperatureC: 21, humidityPct: 40, co2Ppm: 600, lightLux: 300, motionCount: 2 };
    const request: InferRequest = {
      model: 'env-occupancy',
      location: HERE,
      input: { readingIntervalS: 300, readings: Array(12).fill(reading) },
    };
    const answer = await admin().infer(request);
    expect(answer.output).toBeDefined();
    expect(await verifyReceipt({ request, response: answer })).toMatchObject({ valid: true });
  });

  it('rejects tampered receipts, naming what does not hold', async () => {
    const request = comfort();
    const answer = await admin().infer(request);
    const tampered = (change: (a: InferResponse) => void) => {
      const copy = structuredClone(answer);
      change(copy);
      return verifyReceipt({ request, response: copy, nodeId: fabric.node.nodeId });
    };
    expect(await tampered((a) => (a.outputs![0]!.data[0] = 0.99))).toMatchObject({
      valid: false,
      problem: 'OUTPUT_DIGEST',
    });
    expect(
      await verifyReceipt({
        request: comfort({
          inputs: [
            {
              name: 'readings',
              datatype: 'FP32',
              shape: [2, 3],
              data: [
                [30, 60, 650],
                [22, 45, 1500],
              ],
            },
          ],
        }),
        response: answer,
      }),
    ).toMatchObject({ valid: false, problem: 'INPUT_DIGEST' });
    expect(await tampered((a) => (a.receipt.body.serviceTimeMs += 1))).toMatchObject({
      valid: false,
      problem: 'BAD_SIGNATURE',
    });
    // The node's signature: its own (v1), or its batch root's (v2, what `hexedge node run` sends by default).
    // One character inside R changed (the last ones carry spare bits, and 'B' there is not canonical
    // base64url: a signature ending in "AA" became "…BB", MALFORMED, about 1 run in 16).
    const flip = (signature: string) =>
      `${signature.slice(0, 10)}${signature[10] === 'A' ? 'B' : 'A'}${signature.slice(11)}`;
    expect(
      await tampered((a) => {
        if ('batch' in a.receipt) a.receipt.batch.root.signature = flip(a.receipt.batch.root.signature);
        else a.receipt.signature = flip(a.receipt.signature);
      }),
    ).toMatchObject({ valid: false, problem: 'BAD_SIGNATURE' });
    // A forger re-signs the receipt with its own key: it verifies only against the forger's id.
    const forger = await generateNodeKeyPair();
    const forged = await signBody(
      'receipt',
      { ...answer.receipt.body, nodeId: forger.nodeId },
      forger.privateKey,
    );
    expect(await tampered((a) => (a.receipt = forged))).toMatchObject({
      valid: false,
      problem: 'WRONG_SIGNER',
    });
    expect(await tampered((a) => (a.model_version = '2'))).toMatchObject({
      valid: false,
      problem: 'WRONG_MODEL',
    });
    expect(await verifyReceipt({ request, response: answer, modelContentId: 'f'.repeat(64) })).toMatchObject({
      valid: false,
      problem: 'WRONG_CONTENT_ID',
    });
  });

  it('retries a real 429 after the Retry-After the gateway sent, and fails without retries', async () => {
    const created = await admin().request('post', '/v1/keys', {
      body: { name: 'slow app', ratePerSecond: 1, burst: 1 },
    });
    const events: RetryEvent[] = [];
    const client = createClient({
      baseUrl: fabric.gateway.url,
      apiKey: created.key,
      onRetry: (e) => events.push(e),
    });
    await client.infer(comfort());
    const started = performance.now();
    await client.infer(comfort());
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      method: 'POST',
      path: '/v1/infer',
      attempt: 1,
      status: 429,
      code: 'RATE_LIMITED',
    });
    expect(events[0]!.delayMs).toBeGreaterThanOrEqual(1_000);
    expect(performance.now() - started).toBeGreaterThanOrEqual(1_000);
    const refused = await client.infer(comfort(), { retry: false }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(HexEdgeApiError);
    expect(refused).toMatchObject({ status: 429, code: 'RATE_LIMITED', retryAfterMs: 1_000 });
    // A deadline shorter than the Retry-After fails at once with the gateway's answer, not after waiting.
    const hurried = performance.now();
    expect(await client.infer(comfort(), { timeoutMs: 500 }).catch((e: unknown) => e)).toMatchObject({
      code: 'RATE_LIMITED',
    });
    expect(performance.now() - hurried).toBeLessThan(500);
  });

  it('retries real 503s (one inference at a time) until every request of a burst is answered, each once', async () => {
    const events: RetryEvent[] = [];
    const client = createClient({
      baseUrl: fabric.gateway.url,
      apiKey: ADMIN_KEY,
      retry: { maxAttempts: 30 },
      onRetry: (e) => events.push(e),
    });
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        client.infer(comfort({ id: `burst-${i}` }), { timeoutMs: 60_000 }),
      ),
    );
    expect(answers.map((a) => a.id)).toEqual(Array.from({ length: 12 }, (_, i) => `burst-${i}`));
    expect(events.some((e) => e.status === 503 && e.code === 'OVERLOADED')).toBe(true);
    for (const e of events) expect(e.delayMs).toBeGreaterThanOrEqual(1_000);
  });

  it('gives up at the deadline (DEADLINE_EXCEEDED) and rejects with the caller’s reason on abort', async () => {
    const client = admin();
    const started = performance.now();
    // The public event stream never ends: only the deadline ends this call.
    const late = await client
      .request('get', '/v1/events/network', { timeoutMs: 300 })
      .catch((e: unknown) => e);
    expect(late).toMatchObject({ code: 'DEADLINE_EXCEEDED' });
    expect(performance.now() - started).toBeGreaterThanOrEqual(300);
    const controller = new AbortController();
    const pending = client.request('get', '/v1/events/network', { signal: controller.signal });
    controller.abort(new Error('user navigated away'));
    await expect(pending).rejects.toThrow('user navigated away');
  });

  it('names the gateway’s errors: code, status, message naming the value, request id', async () => {
    const err = (await admin()
      .infer(comfort({ location: { lat: 95, lng: 0 } }))
      .catch((e: unknown) => e)) as HexEdgeApiError;
    expect(err).toMatchObject({ status: 400, code: 'INVALID_LOCATION' });
    expect(err.message).toMatch(/95/);
    expect(err.requestId).toMatch(/.+/);
    const unknown = await admin()
      .node('no-such-node')
      .catch((e: unknown) => e);
    expect(unknown).toMatchObject({ status: 404, code: 'UNKNOWN_NODE' });
  });

  mqttSuite(() => fabric);
  readmeSuite(() => fabric);
  runtimeSuite(() => fabric);
});
