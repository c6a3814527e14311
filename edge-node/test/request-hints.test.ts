import {
  generateNodeKeyPair,
  parseTraceparent,
  RECEIPT_PARAMETER,
  receiptWithMetadataSchema,
  signedReceiptSchema,
  verifyReceipt,
} from '@hexedge/protocol';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildComfortIndexModel, comfortIndexManifest, createOipApp, ModelSet } from '../src/index.ts';
import { OrtNodeBackend, readModelDir, writeModel } from '../src/node/index.ts';

// The OIP server reading what the gateway sends beside the body (priority, deadline, traceparent) and
// answering with the receipt's unsigned metadata, on comfort-index in onnxruntime.
const dir = mkdtempSync(path.join(os.tmpdir(), 'hexedge-hints-'));
let app: ReturnType<typeof createOipApp>;
const TRACE = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

beforeAll(async () => {
  const bytes = buildComfortIndexModel();
  await writeModel({ dir, manifest: await comfortIndexManifest(bytes), bytes });
  const models = new ModelSet();
  const backend = await OrtNodeBackend.create();
  for (const a of (await readModelDir(dir)).artifacts) models.add(await backend.load(a));
  app = createOipApp({ models, keys: await generateNodeKeyPair(), isReady: () => true });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const infer = (headers: Record<string, string>) =>
  app.request('/v2/models/comfort-index/infer', {
    method: 'POST',
    body: JSON.stringify({
      id: 'r1',
      inputs: [{ name: 'readings', datatype: 'FP32', shape: [1, 3], data: [29, 55, 900] }],
    }),
    headers: { 'content-type': 'application/json', ...headers },
  });

describe('request hints at the node', () => {
  it("answers inside the caller's trace: the receipt's unsigned metadata names the node's span, its queue and run", async () => {
    const res = await infer({
      traceparent: TRACE,
      'x-hexedge-priority': 'high',
      'x-hexedge-deadline-ms': '5000',
    });
    expect(res.status).toBe(200);
    const raw = JSON.parse(
      ((await res.json()) as { parameters: Record<string, string> }).parameters[RECEIPT_PARAMETER]!,
    ) as {
      metadata: { traceparent: string; queueMs: number; runMs: number; priority: string };
    };
    const node = parseTraceparent(raw.metadata.traceparent)!;
    expect(node.traceId).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(node.spanId).not.toBe('b7ad6b7169203331');
    expect(raw.metadata).toMatchObject({
      queueMs: expect.any(Number),
      runMs: expect.any(Number),
      priority: 'high',
    });
    // The signature covers the body only: the receipt verifies with or without its metadata.
    const receipt = signedReceiptSchema.parse(raw);
    expect(await verifyReceipt(receipt)).toMatchObject({ ok: true });
    const changed = receiptWithMetadataSchema.parse({ ...receipt, metadata: { traceparent: 'changed' } });
    expect(await verifyReceipt(changed)).toMatchObject({ ok: true });
  });

  it('without a trace, the metadata carries timings only', async () => {
    const raw = JSON.parse(
      ((await (await infer({})).json()) as { parameters: Record<string, string> }).parameters[
        RECEIPT_PARAMETER
      ]!,
    ) as { metadata: Record<string, unknown> };
    expect(Object.keys(raw.metadata).sort()).toEqual(['queueMs', 'runMs']);
  });

  it('refuses a malformed priority or deadline with 400 naming it', async () => {
    const bad = await infer({ 'x-hexedge-priority': 'asap' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(
      /x-hexedge-priority "asap" must be one of high, normal, low/,
    );
    expect((await infer({ 'x-hexedge-deadline-ms': '0' })).status).toBe(400);
  });
});
