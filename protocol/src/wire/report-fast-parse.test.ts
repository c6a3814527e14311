import { beforeAll, describe, expect, it } from 'vitest';
import { signBatch } from '../batch/batch-signing.ts';
import { generateNodeKeyPair, type NodeKeyPair } from '../identity.ts';
import { signBody } from '../signing.ts';
import { safeParseSignedReceipt } from '../schemas/receipt-fast-parse.ts';
import { signedReceiptSchema } from '../schemas/receipt.ts';
import { isFastSignedReceipt } from '../schemas/fast-check.ts';
import { signedReportSchema } from './oracle-reports.ts';
import { isFastSignedReport, safeParseSignedReport } from './report-fast-parse.ts';

const NOW = 1_750_000_000_000;
const hex = (c: string) => c.repeat(64);
let node: NodeKeyPair, gateway: NodeKeyPair;
/** Valid samples: v2 report with a v2 receipt, v1 report with a v1 receipt, digests and context variants. */
const samples: unknown[] = [];

const receiptBody = (i: number) => ({
  nodeId: node.nodeId,
  requestId: `req-${i}`,
  modelName: 'comfort-index',
  modelVersion: '1',
  modelContentId: hex('c'),
  inputDigest: hex('a'),
  outputDigest: hex('b'),
  issuedAtMs: NOW,
  serviceTimeMs: 0.05,
});
const tensor = (name: string, data: unknown[]) => ({ name, datatype: 'FP32', shape: [1, data.length], data });

beforeAll(async () => {
  [node, gateway] = await Promise.all([generateNodeKeyPair(), generateNodeKeyPair()]);
  const batchReceipts = await signBatch({
    kind: 'receipt',
    bodies: [0, 1, 2].map(receiptBody),
    keys: node,
    nowMs: NOW,
  });
  const single = await signBody('receipt', receiptBody(9), node.privateKey);
  const bodies = [
    {
      type: 'receipt',
      nodeId: gateway.nodeId,
      nonce: 'n'.repeat(22),
      issuedAtMs: NOW,
      receipt: batchReceipts[0],
      request: { kind: 'tensors', modelName: 'm', modelVersion: '1', inputs: [tensor('x', [1, -0, 2.5])] },
      result: { kind: 'tensors', outputs: [tensor('y', [0.2, 'a', true])] },
    },
    {
      type: 'receipt',
      nodeId: gateway.nodeId,
      nonce: 'm'.repeat(64),
      issuedAtMs: 0,
      receipt: single,
      request: { kind: 'digests', modelName: 'm', modelVersion: '1' },
      result: { kind: 'digests' },
      context: {
        traceparent: '00-' + '1'.repeat(32) + '-' + '2'.repeat(16) + '-01',
        priority: 'low',
        deadlineMs: 1,
      },
    },
    {
      type: 'receipt',
      nodeId: gateway.nodeId,
      nonce: 'o'.repeat(30),
      issuedAtMs: NOW,
      receipt: batchReceipts[2],
      request: { kind: 'tensors', modelName: 'm', modelVersion: '1', inputs: [tensor('x', [])] },
      result: { kind: 'digests' },
      context: {},
    },
  ];
  const reports = await signBatch({ kind: 'report', bodies, keys: gateway, nowMs: NOW });
  samples.push(...reports, await signBody('report', bodies[1]!, gateway.privateKey));
  // Through JSON, as ingest receives them.
  samples.splice(0, samples.length, ...samples.map((s) => JSON.parse(JSON.stringify(s)) as unknown));
});

/** The fast path's contract: it takes a value only when zod accepts it and returns an equal copy; the public parse answers as zod does. */
function expectSameAsZod(value: unknown): boolean {
  const zod = signedReportSchema.safeParse(value);
  const fast = isFastSignedReport(value);
  if (fast) {
    expect(zod.success).toBe(true);
    expect(zod.data).toStrictEqual(value);
  }
  const ours = safeParseSignedReport(value);
  expect(ours.success).toBe(zod.success);
  if (zod.success) expect(ours.data).toStrictEqual(zod.data);
  else expect(!ours.success && ours.error.issues).toStrictEqual(zod.error.issues);
  return fast;
}

/** Every (parent, key) of a JSON tree, root excluded. */
function slots(value: unknown, out: Array<[Record<string, unknown>, string]> = []) {
  if (typeof value !== 'object' || value === null) return out;
  for (const key of Object.keys(value)) {
    out.push([value as Record<string, unknown>, key]);
    slots((value as Record<string, unknown>)[key], out);
  }
  return out;
}

const ADVERSARIAL: unknown[] = [
  -0,
  NaN,
  Infinity,
  -Infinity,
  -1,
  0.5,
  2 ** 53,
  1e300,
  4096,
  4097,
  '',
  'x'.repeat(257),
  '😀'.repeat(40),
  'A'.repeat(86),
  hex('A'),
  'receipt',
  'tensors',
  2,
  true,
  null,
  undefined,
  [],
  {},
  ['a'],
  Array(49).fill(hex('0')),
  JSON.parse('{"__proto__":{"polluted":1}}'),
  Object.create(null),
  new Date(0),
];

describe('hand-checked report and receipt fast paths (zod stays the spec)', () => {
  it('takes the valid samples as they are, without a copy', () => {
    for (const s of samples) {
      expect(expectSameAsZod(s)).toBe(true);
      expect(safeParseSignedReport(s).data).toBe(s);
    }
    const receipt = (samples[0] as { body: { receipt: unknown } }).body.receipt;
    expect(isFastSignedReceipt(receipt)).toBe(true);
    expect(safeParseSignedReceipt(receipt).data).toBe(receipt);
  });

  it('answers as zod for every value swapped in at every position', () => {
    let cases = 0;
    for (const sample of samples)
      for (let at = 0; at < slots(sample).length; at++)
        for (const bad of ADVERSARIAL) {
          const copy = structuredClone(sample);
          const [parent, key] = slots(copy)[at]!;
          parent[key] = bad;
          expectSameAsZod(copy);
          cases++;
        }
    expect(cases).toBeGreaterThan(3000);
  });

  it('falls back to zod for extra, deleted, unicode and prototype keys at every level', () => {
    for (const sample of samples)
      for (let at = -1; at < slots(sample).length; at++) {
        for (const extra of ['extra', '__proto__', 'ｖ', 'constructor', 'toString', 'v']) {
          const copy = structuredClone(sample) as Record<string, unknown>;
          const target = at < 0 ? copy : slots(copy)[at]![0][slots(copy)[at]![1]];
          if (typeof target !== 'object' || target === null || Array.isArray(target)) continue;
          // defineProperty: an own "__proto__" key, as JSON.parse makes it.
          Object.defineProperty(target, extra, {
            value: 1,
            enumerable: true,
            writable: true,
            configurable: true,
          });
          if (!(at < 0 && extra === 'v')) expect(expectSameAsZod(copy)).toBe(false);
          else expectSameAsZod(copy);
        }
        if (at >= 0) {
          const copy = structuredClone(sample);
          const [parent, key] = slots(copy)[at]!;
          if (Array.isArray(parent)) continue;
          delete parent[key];
          expectSameAsZod(copy);
        }
      }
  });

  it('falls back for other report types, a domain request and non-plain objects', () => {
    const v2 = samples[0] as { body: Record<string, unknown> };
    const domain = structuredClone(v2);
    domain.body.request = { kind: 'domain', modelName: 'm', modelVersion: '1', input: { a: 1 } };
    expect(expectSameAsZod(domain)).toBe(false);
    const witness = structuredClone(v2);
    witness.body.type = 'witness';
    expect(expectSameAsZod(witness)).toBe(false);
    class Report {
      v = 2;
      body: unknown = v2.body;
      batch: unknown = (v2 as unknown as { batch: unknown }).batch;
    }
    const asClass = new Report();
    expect(expectSameAsZod(asClass)).toBe(false);
    const inherited = Object.create(structuredClone(v2)) as unknown;
    expectSameAsZod(inherited);
    for (const bad of ADVERSARIAL) expectSameAsZod(bad);
  });

  it('answers as zod for receipts alone (verifyReceiptJson, the gateway)', () => {
    const receipts = samples.slice(0, 2).map((s) => (s as { body: { receipt: unknown } }).body.receipt);
    for (const receipt of receipts)
      for (let at = 0; at < slots(receipt).length; at++)
        for (const bad of ADVERSARIAL) {
          const copy = structuredClone(receipt);
          const [parent, key] = slots(copy)[at]!;
          parent[key] = bad;
          const zod = signedReceiptSchema.safeParse(copy);
          if (isFastSignedReceipt(copy)) expect(zod).toStrictEqual({ success: true, data: copy });
          const ours = safeParseSignedReceipt(copy);
          expect(ours.success).toBe(zod.success);
          if (!zod.success) expect(!ours.success && ours.error.issues).toStrictEqual(zod.error.issues);
        }
  });
});
