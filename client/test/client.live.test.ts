import { generateNodeKeyPair, signBody } from '@hexedge/protocol';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createClient,
  HexEdgeApiError,
  verifyReceipt,
  type InferRequest,
  type InferResponse,
  type RetryEvent,
} from '../src/index.ts';
import { MqttInferClient } from '../src/mqtt.ts';
import { runBlock, typescriptBlocks } from './readme-examples.ts';
import {
  ADMIN_KEY,
  DEVICE_ID,
  DEVICE_PASSWORD,
  HERE,
  mosquittoPart,
  startFabric,
  type Fabric,
} from './fabric.ts';

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
    expect(
      await tampered((a) => (a.receipt.signature = `${a.receipt.signature.slice(0, -2)}AA`)),
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

  describe('MQTT v5 request/response through Mosquitto', () => {
    let device: MqttInferClient;
    beforeAll(async () => {
      device = await MqttInferClient.connect({
        url: fabric.mqttUrl,
        clientId: DEVICE_ID,
        password: DEVICE_PASSWORD,
      });
    });
    afterAll(async () => {
      await device?.close();
    });

    it('answers with the correlation id as request id, and the receipt verifies', async () => {
      const request = comfort();
      const answer = await device.infer(request, { correlationId: 'corr-1' });
      expect(answer.id).toBe('corr-1');
      expect(
        await verifyReceipt({
          request: { ...request, id: 'corr-1' },
          response: answer,
          nodeId: fabric.node.nodeId,
        }),
      ).toMatchObject({ valid: true });
      expect(device.inFlight).toBe(0);
    });

    it('rejects with the gateway’s error code and HTTP status from the answer’s user properties', async () => {
      const err = await device.infer(comfort({ model: 'no-such-model' })).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'MODEL_NOT_FOUND', status: 404 });
    });

    it('times out while the gateway is stopped, then answers again once it runs', async () => {
      fabric.gateway.child.kill('SIGSTOP');
      try {
        const err = await device.infer(comfort(), { timeoutMs: 500 }).catch((e: unknown) => e);
        expect(err).toMatchObject({ code: 'DEADLINE_EXCEEDED' });
        expect(device.inFlight).toBe(0);
      } finally {
        fabric.gateway.child.kill('SIGCONT');
      }
      // The late answer to the timed-out request arrives and is dropped; a new request is answered
      // (after a retry under a new correlation id when the late one still holds the only slot: 503).
      const answer = await device.infer(comfort(), { timeoutMs: 20_000 });
      expect(answer.node.id).toBe(fabric.node.nodeId);
    }, 30_000);

    it('retries a real 503 under a new correlation id (the gateway answers each id once)', async () => {
      const answers = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          device.infer(comfort(), {
            correlationId: `burst-${i}`,
            timeoutMs: 30_000,
            retry: { maxAttempts: 30 },
          }),
        ),
      );
      const ids = answers.map((a) => a.id);
      expect(ids.some((id) => /^burst-\d-\d+$/.test(id))).toBe(true);
      expect(new Set(ids.map((id) => id.split('-').slice(0, 2).join('-')))).toEqual(
        new Set(Array.from({ length: 6 }, (_, i) => `burst-${i}`)),
      );
    }, 60_000);
  });

  describe('the READMEs’ TypeScript examples, run with node against this fabric', () => {
    const repo = path.resolve(import.meta.dirname, '../..');
    // What each block prints when it works (a failing block exits non-zero with its error).
    const expected: Record<string, RegExp[][]> = {
      'README.md': [
        [
          /probabilities \[/,
          /receipt verified: signed by /,
          /nearest nodes \[/,
          /refused: 400 INVALID_LOCATION location\.lat/,
        ],
        [/occupancy .* receipt verified/],
      ],
      'client/README.md': [
        [/^receipt verified$/m, /tampered: rejected/],
        [/answered over MQTT v5 by node \S+ for request \S+/],
      ],
    };

    it.each(Object.keys(expected))(
      '%s',
      async (file) => {
        const blocks = await typescriptBlocks(path.join(repo, file));
        expect(blocks).toHaveLength(expected[file]!.length);
        for (const [i, code] of blocks.entries()) {
          const run = await runBlock({
            code,
            timeoutMs: 60_000,
            env: {
              HEXEDGE_URL: fabric.gateway.url,
              API_KEY: ADMIN_KEY,
              HEXEDGE_MQTT_URL: fabric.mqttUrl,
              HEXEDGE_DEVICE_ID: DEVICE_ID,
              HEXEDGE_DEVICE_PASSWORD: DEVICE_PASSWORD,
            },
          });
          expect({ block: i + 1, code: run.code, stderr: run.stderr }).toEqual({
            block: i + 1,
            code: 0,
            stderr: '',
          });
          for (const line of expected[file]![i]!) expect(run.stdout).toMatch(line);
        }
      },
      180_000,
    );
  });
});
