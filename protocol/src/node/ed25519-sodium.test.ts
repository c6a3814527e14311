import { createHash, generateKeyPairSync, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateNodeKeyPair } from '../identity.ts';
import { signingInput, webCryptoEd25519 } from '../signing.ts';
import { nodeEd25519 } from './ed25519.ts';
import { sodiumEd25519 } from './ed25519-sodium.ts';

const sodium = () => {
  // A dependency of the package: missing means a broken install, which must fail here, not skip.
  expect(sodiumEd25519, 'sodium-native did not load').toBeDefined();
  return sodiumEd25519!;
};

/** The group order of Ed25519's base point (RFC 8032 §5.1). */
const L = 2n ** 252n + 27742317777372353535851937790883648493n;
const littleEndian = (bytes: Uint8Array) => bytes.reduceRight((n, b) => (n << 8n) | BigInt(b), 0n);
function toLittleEndian32(n: bigint): Buffer {
  const out = Buffer.alloc(32);
  for (let i = 0; i < 32; i++, n >>= 8n) out[i] = Number(n & 0xffn);
  return out;
}

describe('libsodium Ed25519 engine', () => {
  it('makes the same signatures as WebCrypto and node:crypto, and each verifies the others’', async () => {
    const engine = sodium();
    const keys = await generateNodeKeyPair();
    for (const text of ['', 'receipt', 'é😀'.repeat(300)]) {
      const bytes = signingInput('receipt', { nodeId: keys.nodeId, text });
      const mine = await engine.sign(keys.privateKey, bytes);
      expect(Buffer.from(mine)).toEqual(Buffer.from(await webCryptoEd25519.sign(keys.privateKey, bytes)));
      expect(Buffer.from(mine)).toEqual(Buffer.from(await nodeEd25519.sign(keys.privateKey, bytes)));
      expect(engine.verify(keys.nodeId, mine, bytes)).toBe(true);
      expect(await webCryptoEd25519.verify(keys.nodeId, mine, bytes)).toBe(true);
      const tampered = Uint8Array.from(bytes);
      tampered[tampered.length - 1] ^= 1;
      expect(engine.verify(keys.nodeId, mine, tampered)).toBe(false);
    }
  });

  it('refuses wrong-sized keys and signatures with a verdict, not a throw', async () => {
    const engine = sodium();
    const keys = await generateNodeKeyPair();
    const bytes = signingInput('receipt', { nodeId: keys.nodeId });
    const signature = (await engine.sign(keys.privateKey, bytes)) as Uint8Array;
    expect(engine.verify(keys.nodeId.slice(0, 40), signature, bytes)).toBe(false);
    expect(engine.verify(keys.nodeId, signature.subarray(0, 63), bytes)).toBe(false);
    expect(engine.verify(keys.nodeId, new Uint8Array(65), bytes)).toBe(false);
  });

  /*
   * The attack: a signer makes, with its own key a, a signature whose R is the identity point (order 1):
   * S = k·a mod L with k = SHA-512(R ‖ A ‖ M). Cofactorless verification (OpenSSL, WebCrypto) checks
   * [S]B = R + [k]A, which holds; libsodium refuses an R of small order. So the fabric's Node services
   * refuse such a receipt, while any WebCrypto verifier accepts everything they accept: the signer
   * loses only its own answer, and no verdict of ours is one a third party would overturn.
   */
  it('refuses a signature with a small-order R that OpenSSL and WebCrypto accept', async () => {
    const engine = sodium();
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const jwk = privateKey.export({ format: 'jwk' });
    const nodeId = jwk.x!;
    const publicBytes = Buffer.from(nodeId, 'base64url');
    const h = createHash('sha512').update(Buffer.from(jwk.d!, 'base64url')).digest();
    const clamped = Buffer.from(h.subarray(0, 32));
    clamped[0]! &= 248;
    clamped[31]! &= 127;
    clamped[31]! |= 64;
    const a = littleEndian(clamped);
    const message = signingInput('receipt', { nodeId, requestId: 'crafted' });
    const identity = Buffer.alloc(32);
    identity[0] = 1; // y = 1, x = 0: the neutral element
    const k =
      littleEndian(createHash('sha512').update(identity).update(publicBytes).update(message).digest()) % L;
    const signature = Buffer.concat([identity, toLittleEndian32((k * a) % L)]);

    expect(verify(null, message, publicKey, signature)).toBe(true);
    expect(await webCryptoEd25519.verify(nodeId, signature, message)).toBe(true);
    expect(engine.verify(nodeId, signature, message)).toBe(false);
    // The same key's honest signature verifies everywhere.
    const honest = (await engine.sign(
      await crypto.subtle.importKey('jwk', jwk as JsonWebKey, { name: 'Ed25519' }, false, ['sign']),
      message,
    )) as Uint8Array;
    expect(engine.verify(nodeId, honest, message)).toBe(true);
    expect(verify(null, message, publicKey, honest)).toBe(true);
  });
});
