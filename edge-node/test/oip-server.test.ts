import {
  generateNodeKeyPair,
  RECEIPT_PARAMETER,
  tensorFromBytes,
  tensorsDigest,
  tensorToBytes,
  type SignedReceipt,
  verifyReceipt,
} from '@hexedge/protocol';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildComfortIndexModel,
  comfortIndexManifest,
  createOipApp,
  ModelSet,
  NodeMetrics,
} from '../src/index.ts';
import { OrtNodeBackend, readModelDir, writeModel } from '../src/node/index.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'hexedge-oip-'));
let app: ReturnType<typeof createOipApp>;
let problems: { file: string; message: string }[];
let metrics: NodeMetrics;

beforeAll(async () => {
  const bytes = buildComfortIndexModel();
  const manifest = await comfortIndexManifest(bytes);
  await writeModel({ dir, manifest, bytes });
  // A second artifact whose bytes were swapped after its manifest was written: must be refused.
  await writeModel({ dir, manifest: { ...manifest, name: 'tampered' }, bytes });
  writeFileSync(path.join(dir, 'tampered@1.onnx'), Uint8Array.from([...bytes, 0]));
  const read = await readModelDir(dir);
  problems = read.problems;
  metrics = new NodeMetrics();
  const models = new ModelSet({ scheduler: { onBatch: metrics.observeBatch, maxQueueDelayUs: 2_000 } });
  metrics.watch(models);
  const backend = await OrtNodeBackend.create();
  for (const a of read.artifacts) models.add(await backend.load(a));
  app = createOipApp({ models, keys: await generateNodeKeyPair(), isReady: () => true, metrics });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const infer = (body: unknown, url = '/v2/models/comfort-index/infer') =>
  app.request(url, {
    method: 'POST',
    body: typeof body === 'string' ? body : JSON.stringify(body),
    headers: { 'content-type': 'application/json' },
  });
const readings = (data: unknown, shape = [1, 3], datatype = 'FP32') => ({
  inputs: [{ name: 'readings', datatype, shape, data }],
});

describe('edge node OIP v2 server', () => {
  it('refuses an artifact whose hash does not match its manifest, and keeps the others', () => {
    expect(problems).toHaveLength(1);
    expect(problems[0]!.message).toMatch(
      /tampered@1\.onnx hashes to [0-9a-f]{64} but manifest tampered@1 names/,
    );
  });

  it('answers health, server and model metadata', async () => {
    expect(await (await app.request('/v2/health/live')).json()).toEqual({ live: true });
    expect((await app.request('/v2/health/ready')).status).toBe(200);
    expect(await (await app.request('/v2')).json()).toMatchObject({ name: 'hexedge-edge-node' });
    const meta = (await (await app.request('/v2/models/comfort-index/versions/1')).json()) as Record<
      string,
      unknown
    >;
    expect(meta).toMatchObject({ name: 'comfort-index', versions: ['1'], platform: 'onnxruntime_onnx' });
    expect(meta.inputs).toEqual([{ name: 'readings', datatype: 'FP32', shape: [-1, 3] }]);
    expect(await (await app.request('/v2/models/comfort-index/ready')).json()).toEqual({
      name: 'comfort-index',
      ready: true,
    });
  });

  it('infers, classifying warm and stuffy rooms, with a receipt signed by the node', async () => {
    const res = await infer({ id: 'r1', ...readings([30, 50, 600, 22, 45, 1600], [2, 3]) });
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      id: string;
      outputs: { data: number[] }[];
      parameters: Record<string, string>;
    };
    const p = body.outputs[0]!.data;
    expect(p[1]).toBeGreaterThan(0.9); // 30 °C: too_warm
    expect(p[5]).toBeGreaterThan(0.9); // 1600 ppm CO2: stuffy
    const receipt = JSON.parse(body.parameters[RECEIPT_PARAMETER]!) as SignedReceipt;
    expect(receipt.body.requestId).toBe('r1');
    // Batch-signed by default (v2): its leaf, proof and the node's signed root.
    expect(await verifyReceipt(receipt)).toMatchObject({ ok: true, version: 2 });
  });

  it.each([
    ['wrong datatype', readings([1, 2, 3], [1, 3], 'INT32'), 400, /datatype INT32.*expects FP32/],
    ['wrong shape', readings([1, 2], [1, 2]), 400, /shape \[1,2\].*expects \[-1,3\]/],
    ['data length not matching the shape', readings([1, 2], [1, 3]), 400, /needs 3 elements but data has 2/],
    ['a non-numeric element', readings([1, 'x', 3]), 400, /element 1 is "x"/],
    [
      'an unknown input name',
      { inputs: [{ name: 'nope', datatype: 'FP32', shape: [1, 3], data: [1, 2, 3] }] },
      400,
      /no input 'nope'/,
    ],
    ['malformed JSON', '{"inputs":', 400, /not valid JSON/],
  ] as const)('refuses %s with the OIP error object', async (_what, body, status, message) => {
    const res = await infer(body);
    expect(res.status).toBe(status);
    expect(((await res.json()) as { error: string }).error).toMatch(message);
  });

  it('answers 404 for an unknown model or version', async () => {
    expect((await infer(readings([1, 2, 3]), '/v2/models/nope/infer')).status).toBe(404);
    const res = await infer(readings([1, 2, 3]), '/v2/models/comfort-index/versions/9/infer');
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: string }).error).toMatch(/no version '9'/);
  });

  it('keeps serving after refusing bad requests', async () => {
    expect((await infer(readings([21, 40, 500]))).status).toBe(200);
  });

  it('takes and gives tensors in the binary data extension, with the same receipt digests as JSON', async () => {
    const x = { name: 'readings', datatype: 'FP32' as const, shape: [2, 3] };
    const bytes = tensorToBytes({ ...x, data: [30, 50, 600, 22, 45, 1600] });
    const header = new TextEncoder().encode(
      JSON.stringify({
        id: 'bin-1',
        inputs: [{ ...x, parameters: { binary_data_size: bytes.length } }],
        outputs: [{ name: 'probabilities', parameters: { binary_data: true } }],
      }),
    );
    const body = new Uint8Array(header.length + bytes.length);
    body.set(header);
    body.set(bytes, header.length);
    const res = await app.request('/v2/models/comfort-index/infer', {
      method: 'POST',
      body,
      headers: { 'inference-header-content-length': String(header.length) },
    });
    expect(res.status).toBe(200);
    const raw = new Uint8Array(await res.arrayBuffer());
    const jsonLength = Number(res.headers.get('inference-header-content-length'));
    const head = JSON.parse(new TextDecoder().decode(raw.subarray(0, jsonLength)));
    expect(head.outputs[0].parameters.binary_data_size).toBe(24);
    const probs = tensorFromBytes(
      { name: 'probabilities', datatype: 'FP32', shape: [2, 3] },
      raw.subarray(jsonLength),
    );
    expect((probs.data as Float32Array)[1]).toBeGreaterThan(0.9);
    const receipt = JSON.parse(head.parameters[RECEIPT_PARAMETER]) as SignedReceipt;
    expect(receipt.body.inputDigest).toBe(await tensorsDigest([{ ...x, data: [30, 50, 600, 22, 45, 1600] }]));
    expect(receipt.body.outputDigest).toBe(await tensorsDigest([probs]));
  });

  it('refuses binary data that does not fit the declared tensors', async () => {
    const header = new TextEncoder().encode(
      JSON.stringify({
        inputs: [{ name: 'readings', datatype: 'FP32', shape: [1, 3], parameters: { binary_data_size: 12 } }],
      }),
    );
    const body = new Uint8Array(header.length + 8);
    body.set(header);
    const res = await app.request('/v2/models/comfort-index/infer', {
      method: 'POST',
      body,
      headers: { 'inference-header-content-length': String(header.length) },
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(
      /binary_data_size 12 runs past the 8 bytes/,
    );
  });

  it('batches concurrent requests and reports it in /metrics', async () => {
    const answers = await Promise.all(
      Array.from({ length: 24 }, (_, i) => infer(readings([20 + (i % 10), 45, 600]))),
    );
    expect(answers.every((r) => r.status === 200)).toBe(true);
    const text = await (await app.request('/metrics')).text();
    expect(text).toMatch(/hexedge_node_requests_total\{model="comfort-index",version="1",outcome="ok"\} \d+/);
    const batches = Number(
      /hexedge_node_batch_size_count\{model="comfort-index",version="1"\} (\d+)/.exec(text)![1],
    );
    const rows = Number(
      /hexedge_node_batch_size_sum\{model="comfort-index",version="1"\} (\d+)/.exec(text)![1],
    );
    expect(rows / batches).toBeGreaterThan(1.5);
    expect(text).toMatch(/hexedge_node_queue_depth\{model="comfort-index",version="1"\} 0/);
    expect(text).toMatch(/outcome="INVALID_TENSOR"/);
  });
});
