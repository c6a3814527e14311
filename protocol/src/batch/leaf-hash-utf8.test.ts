import { createHash, hash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sha256Hex, type Sha256Hex } from '../encoding.ts';
import { generateNodeKeyPair } from '../identity.ts';
import { batchLeafHash, signBatch, verifyBatchSigned } from './batch-signing.ts';
import { VerifiedRoots } from './verified-roots.ts';

const bytesOnly: Sha256Hex = (bytes) => createHash('sha256').update(bytes).digest('hex');
const withUtf8: Sha256Hex = Object.assign((bytes: Uint8Array) => bytesOnly(bytes), {
  utf8: (text: string) => hash('sha256', text, 'hex'),
});

// Keys and strings a hostile signer may use: unicode, astral, lone surrogates, escapes, prototype names.
const AWKWARD = {
  nodeId: 'n',
  ü: 'ß',
  '😀': '\ud800 lone \udfff',
  '\u2028': 'line\nsep\u2029"\\',
  __proto__x: ['\u0000', -0, 1e21, 5e-7, true, null],
  constructor: { toString: 'x', '10': 1, '2': 2, b: { a: [] } },
};

describe('leaf hashing: the one-shot text path hashes the same bytes', () => {
  it('hashes a leaf from text (utf8) exactly as from the encoded bytes, for awkward bodies', async () => {
    for (const body of [
      AWKWARD,
      { nodeId: 'x', requestId: 'é'.repeat(300) },
      JSON.parse('{"__proto__":1,"nodeId":"p"}'),
    ]) {
      const viaText = batchLeafHash('receipt', body, withUtf8);
      expect(viaText).toBe(batchLeafHash('receipt', body, bytesOnly));
      expect(viaText).toBe(await batchLeafHash('receipt', body, sha256Hex));
    }
  });

  it('verifies a batch-signed message the same through either path (sync and async walks), and refuses a tampered one', async () => {
    const keys = await generateNodeKeyPair();
    const bodies = [0, 1, 2].map((i) => ({ nodeId: keys.nodeId, i, text: '😀'.repeat(i) }));
    const signed = await signBatch({ kind: 'report', bodies, keys, nowMs: 1, sha256: withUtf8 });
    for (const item of signed) {
      const plain = await verifyBatchSigned('report', item, { sha256: bytesOnly });
      const reused = await verifyBatchSigned('report', item, {
        sha256: withUtf8,
        roots: new VerifiedRoots(),
      });
      const webCrypto = await verifyBatchSigned('report', item, { roots: new VerifiedRoots() });
      expect(plain).toEqual({ ok: true, cachedRoot: false });
      expect(reused).toEqual(plain);
      expect(webCrypto).toEqual(plain);
    }
    const tampered = { ...signed[0]!, body: bodies[1]! };
    for (const sha256 of [withUtf8, bytesOnly, undefined])
      expect(
        await verifyBatchSigned('report', tampered, {
          roots: new VerifiedRoots(),
          ...(sha256 ? { sha256 } : {}),
        }),
      ).toMatchObject({ ok: false, fault: 'PROOF_MISMATCH' });
  });
});
