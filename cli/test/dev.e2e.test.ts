import { tensorsDigest, verifyReceipt, type InferResponse, type StoredKeyPair } from '@hexedge/protocol';
import { latLngToCell } from 'h3-js';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { descendantsOf, isAlive, startDev, waitUntil, type DevProcess } from '@hexedge/test-kit';

const API_KEY = 'e2e-test-key-0123';
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'hexedge-e2e-'));
let dev: DevProcess;

const nodeIdOf = (city: string) =>
  (JSON.parse(readFileSync(path.join(dataDir, 'nodes', city, 'node-key.json'), 'utf8')) as StoredKeyPair)
    .nodeId;

async function api(pathname: string, init: RequestInit & { key?: string | null } = {}) {
  const headers = new Headers(init.headers);
  if (init.key !== null) headers.set('authorization', `Bearer ${init.key ?? API_KEY}`);
  headers.set('content-type', 'application/json');
  const res = await fetch(`${dev.gatewayUrl}${pathname}`, { ...init, headers });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const readings = {
  name: 'readings',
  datatype: 'FP32',
  shape: [2, 3],
  data: [
    [31, 60, 650],
    [22, 45, 1500],
  ],
};
const infer = (body: unknown, key?: string | null) =>
  api('/v1/infer', { method: 'POST', body: JSON.stringify(body), ...(key !== undefined ? { key } : {}) });

beforeAll(async () => {
  dev = await startDev([
    '--nodes',
    '3',
    '--port',
    '0',
    '--mqtt-port',
    '0',
    '--data-dir',
    dataDir,
    '--api-key',
    API_KEY,
    '--heartbeat-ms',
    '500',
  ]);
}, 120_000);

afterAll(() => {
  if (dev?.child.exitCode === null) dev.child.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

describe('hexedge dev, end to end', () => {
  it('prints a ready line with the gateway, the MQTT URL and the API key', () => {
    const ready = dev.lines.find((l) => l.includes('ready'))!;
    expect(ready).toContain(API_KEY);
    expect(dev.mqttUrl).toMatch(/^mqtt:\/\/127\.0\.0\.1:\d+$/);
  });

  it('runs an MQTT broker that carries messages for a client with the admin key, and refuses anonymous clients', async () => {
    // User `admin` with the API key: hexedge dev's Mosquitto knows that user (aedes takes any name).
    const client = await mqtt.connectAsync(dev.mqttUrl, {
      reconnectPeriod: 0,
      username: 'admin',
      password: API_KEY,
    });
    await client.subscribeAsync('hexedge/test/echo');
    const received = new Promise<string>((resolve) =>
      client.on('message', (_t, payload) => resolve(payload.toString())),
    );
    await client.publishAsync('hexedge/test/echo', 'hello');
    expect(await received).toBe('hello');
    await client.endAsync();
    await expect(mqtt.connectAsync(dev.mqttUrl, { reconnectPeriod: 0 }, false)).rejects.toThrow();
  });

  it('answers /healthz', async () => {
    expect((await fetch(`${dev.gatewayUrl}/healthz`)).status).toBe(200);
  });

  it('routes an inference to the nearest node, which answers as the model does locally, with a valid receipt', async () => {
    const { status, body } = await infer({
      model: 'comfort-index',
      location: { lat: 50.05, lng: 8.57 },
      inputs: [readings],
    });
    expect(status).toBe(200);
    const res = body as unknown as InferResponse;
    expect(res.node.id).toBe(nodeIdOf('frankfurt'));
    expect(res.node.distanceKm).toBeGreaterThan(5);
    expect(res.node.distanceKm).toBeLessThan(15);

    const session = await ort.InferenceSession.create(path.join(dataDir, 'models', 'comfort-index@1.onnx'));
    const local = await session.run({
      readings: new ort.Tensor('float32', Float32Array.from([31, 60, 650, 22, 45, 1500]), [2, 3]),
    });
    expect(res.outputs![0]!.data).toEqual(Array.from(local.probabilities!.data as Float32Array));
    expect(res.outputs![0]!.shape).toEqual([2, 3]);

    expect(res.receipt.body.nodeId).toBe(res.node.id);
    expect(res.receipt.body.requestId).toBe(res.id);
    expect(res.receipt.body.outputDigest).toBe(await tensorsDigest(res.outputs as never));
    // Nodes batch-sign receipts by default (v2): verifiable alone from the answer's own bytes.
    expect(await verifyReceipt(res.receipt)).toMatchObject({ ok: true, version: 2 });
    expect(res.timing.totalMs).toBeGreaterThanOrEqual(res.timing.nodeMs);
  });

  it('serves the project and third-party models with domain inputs through their pipelines', async () => {
    const at = { lat: 48.86, lng: 2.35 };
    const emptyRoom = Array.from({ length: 12 }, () => ({
      temperatureC: 19.5,
      humidityPct: 40,
      co2Ppm: 420,
      lightLux: 5,
      motionCount: 0,
    }));
    const env = await infer({
      model: 'env-occupancy',
      location: at,
      input: { readingIntervalS: 300, readings: emptyRoom },
    });
    expect(env.status).toBe(200);
    expect((env.body.output as { label: string }).label).toBe('empty');

    const t = Array.from({ length: 512 }, (_, n) => n / 3200);
    const accelerationG = {
      x: t.map((s) => 0.3 * Math.sin(2 * Math.PI * 25 * s)),
      y: t.map((s) => 0.3 * Math.cos(2 * Math.PI * 25 * s)),
      z: t.map(() => 0.01),
    };
    const vib = await infer({
      model: 'vibration-anomaly',
      version: '1.0.0-int8',
      location: at,
      input: { sampleRateHz: 3200, accelerationG },
    });
    expect(vib.status).toBe(200);
    const probs = Object.values((vib.body.output as { probabilities: Record<string, number> }).probabilities);
    expect(probs).toHaveLength(4);
    expect(probs.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);

    const fixtures = path.join(import.meta.dirname, '../../edge-node/test/fixtures');
    const wav = readFileSync(path.join(fixtures, 'speech-16k.wav'));
    const vad = await infer({
      model: 'silero-vad',
      location: at,
      input: { audio: wav.subarray(44).toString('base64'), sampleRateHz: 16000 },
    });
    expect(vad.status).toBe(200);
    expect((vad.body.output as { speech: boolean }).speech).toBe(true);

    const png = readFileSync(path.join(fixtures, 'meter-04721.png'));
    const ocr = await infer({ model: 'ppocr-rec', location: at, input: { image: png.toString('base64') } });
    expect(ocr.status).toBe(200);
    expect((ocr.body.output as { text: string }).text).toBe('04721');
    expect((ocr.body as unknown as InferResponse).node.id).toBe(nodeIdOf('paris'));
  });

  it('takes a location given as an H3 cell', async () => {
    const cell = latLngToCell(48.85, 2.35, 7);
    const { status, body } = await infer({
      model: 'comfort-index',
      location: { cell },
      inputs: [readings],
      id: 'by-cell-1',
    });
    expect(status).toBe(200);
    expect((body as unknown as InferResponse).node.id).toBe(nodeIdOf('paris'));
    expect(body.id).toBe('by-cell-1');
  });

  it('lists the nearest nodes, nearest first', async () => {
    const { status, body } = await api('/v1/nodes/nearest?lat=52.3&lng=4.8&k=3&model=comfort-index');
    expect(status).toBe(200);
    const nodes = body.nodes as { id: string; distanceKm: number; models: { name: string }[] }[];
    expect(nodes).toHaveLength(3);
    expect(nodes[0]!.id).toBe(nodeIdOf('amsterdam'));
    expect(nodes.map((n) => n.distanceKm)).toEqual([...nodes.map((n) => n.distanceKm)].sort((a, b) => a - b));
    expect(nodes[0]!.models[0]!.name).toBe('comfort-index');
  });

  it.each([
    [
      'malformed JSON',
      () => api('/v1/infer', { method: 'POST', body: '{"model":' }),
      400,
      'INVALID_JSON',
      /JSON/,
    ],
    [
      'a missing field',
      () => infer({ location: { lat: 1, lng: 1 }, inputs: [readings] }),
      400,
      'INVALID_REQUEST',
      /model/,
    ],
    [
      'lat out of range',
      () => infer({ model: 'comfort-index', location: { lat: 95, lng: 0 }, inputs: [readings] }),
      400,
      'INVALID_LOCATION',
      /lat.*95/,
    ],
    [
      'lng out of range',
      () => infer({ model: 'comfort-index', location: { lat: 0, lng: -181 }, inputs: [readings] }),
      400,
      'INVALID_LOCATION',
      /lng.*-181/,
    ],
    [
      'an invalid H3 cell',
      () => infer({ model: 'comfort-index', location: { cell: 'not-a-cell' }, inputs: [readings] }),
      400,
      'INVALID_CELL',
      /not-a-cell/,
    ],
    [
      'a tensor whose data does not fit its shape',
      () =>
        infer({
          model: 'comfort-index',
          location: { lat: 1, lng: 1 },
          inputs: [{ ...readings, shape: [1, 3] }],
        }),
      400,
      'INVALID_TENSOR',
      /readings/,
    ],
    [
      'no API key',
      () => infer({ model: 'comfort-index', location: { lat: 1, lng: 1 }, inputs: [readings] }, null),
      401,
      'UNAUTHORIZED',
      /Authorization/,
    ],
    [
      'a wrong API key',
      () =>
        infer({ model: 'comfort-index', location: { lat: 1, lng: 1 }, inputs: [readings] }, 'wrong-key-123'),
      401,
      'UNAUTHORIZED',
      /not valid/,
    ],
    [
      'an unknown model',
      () => infer({ model: 'no-such-model', location: { lat: 1, lng: 1 }, inputs: [readings] }),
      404,
      'MODEL_NOT_FOUND',
      /no-such-model/,
    ],
    [
      'an unknown version',
      () =>
        infer({ model: 'comfort-index', version: '99', location: { lat: 1, lng: 1 }, inputs: [readings] }),
      404,
      'MODEL_NOT_FOUND',
      /99/,
    ],
  ] as const)('refuses %s', async (_what, send, status, code, message) => {
    const res = await send();
    expect(res.status).toBe(status);
    const error = res.body.error as { code: string; message: string };
    expect(error.code).toBe(code);
    expect(error.message).toMatch(message);
  });

  // Last before shutdown: its request must not change what placement sees in the tests above.
  it('answers an inference request over MQTT (v3.1.1 request/response topics)', async () => {
    const client = await mqtt.connectAsync(dev.mqttUrl, {
      reconnectPeriod: 0,
      clientId: 'e2e-app',
      username: 'admin',
      password: API_KEY,
    });
    await client.subscribeAsync('hexedge/v1/res/e2e-app/#', { qos: 1 });
    const received = new Promise<InferResponse>((resolve) =>
      client.on('message', (_t, payload) => resolve(JSON.parse(payload.toString()) as InferResponse)),
    );
    await client.publishAsync(
      'hexedge/v1/req/e2e-app/q1',
      JSON.stringify({ model: 'comfort-index', location: { lat: 52.37, lng: 4.9 }, inputs: [readings] }),
      { qos: 1 },
    );
    const res = await received;
    expect(res.id).toBe('q1');
    expect(res.receipt.body.nodeId).toBe(res.node.id);
    expect(await verifyReceipt(res.receipt)).toMatchObject({ ok: true, version: 2 });
    await client.endAsync();
  });

  it('plays the demo LoRaWAN fleet: simulated ChirpStack uplinks come back as downlinks and results on the broker', async () => {
    expect(dev.lines.some((l) => /^hexedge dev simulator: 4 demo devices .* 60x real time/.test(l))).toBe(
      true,
    );
    expect(((await api('/v1/devices?fleet=demo')).body.devices as unknown[]).length).toBe(4);
    const client = await mqtt.connectAsync(dev.mqttUrl, {
      reconnectPeriod: 0,
      clientId: 'e2e-fleet-backend',
      username: 'admin',
      password: API_KEY,
    });
    const got: { topic: string; payload: Record<string, unknown> }[] = [];
    client.on('message', (topic, payload) =>
      got.push({ topic, payload: JSON.parse(payload.toString()) as Record<string, unknown> }),
    );
    await client.subscribeAsync(
      ['application/+/device/a84041000181c003/command/down', 'hexedge/v1/results/demo/a84041000181c003'],
      { qos: 1 },
    );
    // At 60x a room sensor reads every 5 s of wall time; comfort-index answers every reading.
    await waitUntil(
      'a downlink command and a result from the demo fleet',
      () =>
        got.some((g) => g.topic.endsWith('/command/down')) &&
        got.some((g) => g.topic.startsWith('hexedge/v1/results/')),
      { timeoutMs: 15_000 },
    ).catch(() => {});
    await client.endAsync();
    const down = got.find((g) => g.topic.endsWith('/command/down'))!;
    expect(down.payload).toMatchObject({ devEui: 'a84041000181c003', fPort: 10 });
    expect(Buffer.from(down.payload.data as string, 'base64')).toHaveLength(3); // probabilities: one byte per class
    const result = got.find((g) => g.topic.startsWith('hexedge/v1/results/'))!.payload;
    expect(result).toMatchObject({
      kind: 'result',
      fleet: 'demo',
      devEui: 'a84041000181c003',
      inference: { status: 'ok', model: 'comfort-index' },
      location: { method: 'gps' },
    });
  }, 20_000);

  it("runs the oracle in a process of its own (the gateway's event loop is the gateway's), answering at the printed URL", async () => {
    const port = Number(new URL(dev.oracleUrl).port);
    // The process holding the oracle's listening socket: /proc/net/tcp{,6} gives its inode, /proc/<pid>/fd the owner.
    const inodes = ['tcp', 'tcp6'].flatMap((f) =>
      readFileSync(`/proc/net/${f}`, 'utf8')
        .split('\n')
        .slice(1)
        .map((l) => l.trim().split(/\s+/))
        .filter(
          (c) => c[1]?.endsWith(`:${port.toString(16).toUpperCase().padStart(4, '0')}`) && c[3] === '0A',
        )
        .map((c) => c[9]!),
    );
    const owners = [dev.child.pid!, ...descendantsOf(dev.child.pid!)].filter((pid) => {
      try {
        return readdirSync(`/proc/${pid}/fd`).some((fd) =>
          inodes.some((i) => readlinkSync(`/proc/${pid}/fd/${fd}`) === `socket:[${i}]`),
        );
      } catch {
        return false;
      }
    });
    expect(owners).toHaveLength(1);
    expect(owners[0]).not.toBe(dev.child.pid);
    expect((await fetch(`${dev.oracleUrl}/v1/oracle/identity`)).status).toBe(200);
  });

  it('shuts everything down on SIGINT and leaves no process behind', async () => {
    const pids = descendantsOf(dev.child.pid!);
    expect(pids.length).toBeGreaterThanOrEqual(3);
    const exited = new Promise<number | null>((resolve) => dev.child.once('exit', (code) => resolve(code)));
    dev.child.kill('SIGINT');
    expect(await exited).toBe(0);
    await waitUntil('every process of hexedge dev to be gone', () => !pids.some(isAlive), {
      timeoutMs: 5_000,
    }).catch(() => {});
    expect(pids.filter(isAlive)).toEqual([]);
  }, 30_000);
});
