import { createHash } from 'node:crypto';
import {
  generateNodeKeyPair,
  RECEIPT_PARAMETER,
  sha256Hex,
  signBatch,
  signBody,
  tensorsDigest,
  type NodeKeyPair,
  type Sha256Hex,
  type Tensor,
} from '@hexedge/protocol';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkReceiptNow, checkReceiptWithMetadata } from './receipt-check.ts';

/*
 * checkReceiptNow answers without a promise when it can (a synchronous hash, a root verified before):
 * it must accept and refuse exactly what the asynchronous check does, with the same messages.
 */
const CONTENT_ID = 'c'.repeat(64);
const syncSha256: Sha256Hex = Object.assign(
  (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex'),
  { utf8: (text: string) => createHash('sha256').update(text, 'utf8').digest('hex') },
);
const inputsOf = (i: number): Tensor[] => [{ name: 'x', datatype: 'FP32', shape: [1], data: [i] }];
const outputsOf = (i: number): Tensor[] => [{ name: 'y', datatype: 'FP32', shape: [1], data: [2 * i] }];

let node: NodeKeyPair;
let other: NodeKeyPair;
let receipts: Record<string, unknown>[];

async function bodyOf(nodeId: string, i: number) {
  return {
    nodeId,
    requestId: `r${i}`,
    modelName: 'm',
    modelVersion: '1',
    modelContentId: CONTENT_ID,
    inputDigest: await tensorsDigest(inputsOf(i)),
    outputDigest: await tensorsDigest(outputsOf(i)),
    issuedAtMs: 1_700_000_000_000,
    serviceTimeMs: 1,
  };
}

const optionsFor = (raw: unknown, i: number, sha256?: Sha256Hex) => ({
  parameters: { [RECEIPT_PARAMETER]: typeof raw === 'string' ? raw : JSON.stringify(raw) },
  nodeId: node.nodeId,
  requestId: `r${i}`,
  modelName: 'm',
  modelVersion: '1',
  modelContentId: CONTENT_ID,
  digests: { kind: 'tensors' as const, inputs: inputsOf(i), outputs: outputsOf(i) },
  ...(sha256 ? { sha256 } : {}),
});

/** The outcome of a check, whichever way it came: the value, or the error's code and message. */
async function outcomeOf(run: () => unknown): Promise<unknown> {
  try {
    return { ok: await run() };
  } catch (err) {
    return { code: (err as { code?: string }).code, message: (err as Error).message };
  }
}

beforeAll(async () => {
  [node, other] = await Promise.all([generateNodeKeyPair(), generateNodeKeyPair()]);
  const bodies = await Promise.all([0, 1, 2, 3].map((i) => bodyOf(node.nodeId, i)));
  receipts = (await signBatch({ kind: 'receipt', bodies, keys: node, nowMs: 1 })) as unknown as Record<
    string,
    unknown
  >[];
});

describe('checkReceiptNow', () => {
  it('answers a leaf of a verified root without a promise, with the metadata beside it', async () => {
    await checkReceiptWithMetadata(optionsFor(receipts[0], 0, syncSha256));
    const now = checkReceiptNow(optionsFor({ ...receipts[1], metadata: { queueMs: 1 } }, 1, syncSha256));
    expect(now).not.toBeInstanceOf(Promise);
    expect(now).toMatchObject({ receipt: { v: 2, body: { requestId: 'r1' } }, metadata: { queueMs: 1 } });
  });

  it('takes and refuses what the asynchronous check does, with the same messages', async () => {
    const [r0, r1, r2] = receipts as [
      Record<string, unknown>,
      Record<string, unknown>,
      Record<string, unknown>,
    ];
    const batch2 = r2.batch as { root: { body: Record<string, unknown> } };
    const theirRoot = await signBody(
      'receipt-root',
      { ...(batch2.root.body as { nodeId: string }), nodeId: node.nodeId, leafCount: 4 },
      other.privateKey,
    );
    // Each case with what it must give: accepted, or refused with this message.
    const cases: [unknown, number, 'ok' | RegExp][] = [
      [r0, 0, 'ok'],
      [r2, 2, 'ok'],
      [r1, 0, /names request r1, expected r0/],
      [{ ...r0, batch: r1.batch }, 0, /PROOF_MISMATCH/],
      [{ ...r2, batch: { ...batch2, root: theirRoot } }, 2, /ROOT_SIGNATURE/],
      [{ ...r2, body: { ...(r2.body as object), outputDigest: 'f'.repeat(64) } }, 2, /output digest/],
      [{ ...r2, body: { ...(r2.body as object), modelContentId: 'd'.repeat(64) } }, 2, /content id/],
      [{ ...r2, v: 3 }, 2, /malformed/],
      ['{"v":2,', 2, /not JSON/],
      ['null', 2, /malformed/],
      ['[]', 2, /malformed/],
      ['{"__proto__":{"v":2}}', 2, /malformed/],
      [{ ...r2, batch: { ...batch2, proof: ['a'.repeat(64)] } }, 2, /PROOF_LENGTH|malformed/],
      [{ ...r2, batch: { ...batch2, index: 1e300 } }, 2, /INDEX_OUT_OF_RANGE|malformed/],
      [{ ...r2, body: { ...(r2.body as object), requestId: 'r2\u0000' } }, 2, /names request/],
    ];
    for (const [raw, i, expected] of cases) {
      // The asynchronous check (WebCrypto's hash, every step a promise) is the reference.
      const reference = await outcomeOf(() => checkReceiptWithMetadata(optionsFor(raw, i, sha256Hex)));
      if (expected === 'ok') expect(reference).toMatchObject({ ok: { receipt: { v: 2 } } });
      else
        expect(reference).toMatchObject({
          code: 'RECEIPT_INVALID',
          message: expect.stringMatching(expected),
        });
      for (const sha256 of [syncSha256, sha256Hex, undefined])
        expect(await outcomeOf(() => checkReceiptNow(optionsFor(raw, i, sha256)))).toEqual(reference);
    }
    // A missing receipt, refused at once.
    expect(() => checkReceiptNow({ ...optionsFor(r0, 0), parameters: {} })).toThrow(/missing/);
  });
});
