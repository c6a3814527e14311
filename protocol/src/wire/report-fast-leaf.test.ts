import { beforeAll, describe, expect, it } from 'vitest';
import { batchLeafHash, signBatch } from '../batch/batch-signing.ts';
import { sha256Hex } from '../encoding.ts';
import { generateNodeKeyPair, type NodeKeyPair } from '../identity.ts';
import { nodeSha256Hex } from '../node/sha256.ts';
import { signBody } from '../signing.ts';
import { fastReceiptReportLeaves } from './report-fast-leaf.ts';
import { isFastSignedReport, safeParseSignedReportWithLeaves } from './report-fast-parse.ts';

const NOW = 1_750_000_000_000;
const hex = (c: string) => c.repeat(64);
let node: NodeKeyPair, gateway: NodeKeyPair;
/** Valid batch-signed receipt reports: v2 and v1 receipts, tensors and digests, with and without context. */
const samples: Array<Record<string, unknown>> = [];

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
  const receipts = await signBatch({
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
      receipt: receipts[0],
      request: { kind: 'tensors', modelName: 'm', modelVersion: '1', inputs: [tensor('x', [1, -0, 2.5])] },
      result: { kind: 'tensors', outputs: [tensor('y', [0.2, 'a', true]), tensor('z', [false, 1e21])] },
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
      receipt: receipts[2],
      request: { kind: 'tensors', modelName: 'm', modelVersion: '1', inputs: [tensor('x', [])] },
      result: { kind: 'digests' },
      context: {},
    },
    {
      type: 'receipt',
      nodeId: gateway.nodeId,
      nonce: 'p'.repeat(40),
      issuedAtMs: NOW,
      receipt: receipts[1],
      request: { kind: 'digests', modelName: 'm', modelVersion: '1' },
      result: { kind: 'tensors', outputs: [tensor('y', [5e-324, -1.5e-7, 2 ** 53 - 1, -(2 ** 31), 1e300])] },
      context: { deadlineMs: 60_000, priority: 'high' },
    },
  ];
  const reports = await signBatch({ kind: 'report', bodies, keys: gateway, nowMs: NOW });
  // Through JSON, as ingest receives them.
  samples.push(...reports.map((s) => JSON.parse(JSON.stringify(s)) as Record<string, unknown>));
});

/** What the generic path hashes: batchLeafHash over the report's body and its batch-signed receipt's body. */
function expected(report: Record<string, unknown>) {
  const body = report.body as { receipt: { v?: unknown; body: unknown } };
  return {
    report: batchLeafHash('report', body, nodeSha256Hex),
    receipt: body.receipt.v === 2 ? batchLeafHash('receipt', body.receipt.body, nodeSha256Hex) : undefined,
  };
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

/** Values swapped in at every position: the fast check's adversarial ones and strings every escape rule touches. */
const SWAPS: unknown[] = [
  -0,
  NaN,
  Infinity,
  0.1 + 0.2,
  -1,
  2 ** 31,
  2 ** 53,
  1e21,
  1e-7,
  123456789012,
  0x3fffffff,
  0x40000000,
  '',
  'x'.repeat(257),
  'q"uote',
  'back\\slash',
  'ctrl\u0000\u001f\n\t',
  '\u007f',
  'é ü 😀',
  '\ud800 lone',
  'tail \udc00',
  '\u2028\u2029',
  'a'.repeat(40) + '"' + 'b'.repeat(20),
  'c'.repeat(40) + 'é',
  'd'.repeat(63) + '\\',
  hex('f'),
  hex('A'),
  'A'.repeat(86),
  true,
  false,
  null,
  [],
  {},
  ['a', 'b"'],
  [1, -0, 'é'],
  JSON.parse('{"__proto__":{"polluted":1}}'),
];

describe('fast receipt report leaves (canonicalUtf8View stays the spec)', () => {
  it('hashes the valid samples as batchLeafHash does, the receipt leaf only for a batch-signed receipt', () => {
    for (const s of samples) {
      expect(isFastSignedReport(s)).toBe(true);
      const leaves = fastReceiptReportLeaves(s, nodeSha256Hex);
      expect(leaves).toStrictEqual(expected(s));
    }
    expect(fastReceiptReportLeaves(samples[1]!, nodeSha256Hex)!.receipt).toBeUndefined();
    expect(fastReceiptReportLeaves(samples[0]!, nodeSha256Hex)!.receipt).toBeDefined();
  });

  it('agrees with batchLeafHash for every value swapped in at every position the fast check still takes', () => {
    let taken = 0;
    let cases = 0;
    for (const sample of samples)
      for (let at = 0; at < slots(sample).length; at++)
        for (const swap of SWAPS) {
          const copy = structuredClone(sample);
          const [parent, key] = slots(copy)[at]!;
          parent[key] = structuredClone(swap);
          cases++;
          if (!isFastSignedReport(copy)) continue;
          taken++;
          expect(fastReceiptReportLeaves(copy, nodeSha256Hex)).toStrictEqual(expected(copy));
        }
    expect(cases).toBeGreaterThan(4000);
    // The strings and numbers the fast check lets through at free-text and number positions.
    expect(taken).toBeGreaterThan(500);
  });

  it('agrees for a report past the shared buffer (a large tensor), and on the next small one', () => {
    const big = structuredClone(samples[0]!) as { body: { request: { inputs: Array<{ data: unknown[] }> } } };
    big.body.request.inputs[0]!.data = Array.from({ length: 40_000 }, (_, i) => (i % 3 ? i / 7 : `é${i}`));
    expect(isFastSignedReport(big)).toBe(true);
    expect(fastReceiptReportLeaves(big, nodeSha256Hex)).toStrictEqual(expected(big as never));
    expect(fastReceiptReportLeaves(samples[3]!, nodeSha256Hex)).toStrictEqual(expected(samples[3]!));
  });

  it('leaves the hashing to the generic path without a synchronous hash, or for a report signed alone', () => {
    expect(fastReceiptReportLeaves(samples[0]!, sha256Hex)).toBeUndefined();
    const alone = { body: samples[0]!.body, signature: 'A'.repeat(86) };
    expect(fastReceiptReportLeaves(alone, nodeSha256Hex)).toBeUndefined();
    const parsed = safeParseSignedReportWithLeaves(samples[0], nodeSha256Hex);
    expect(parsed.success && 'leaves' in parsed && parsed.leaves).toStrictEqual(expected(samples[0]!));
    const slow = structuredClone(samples[0]!);
    (slow.body as Record<string, unknown>).extra = 1;
    expect('leaves' in safeParseSignedReportWithLeaves(slow, nodeSha256Hex)).toBe(false);
  });
});
