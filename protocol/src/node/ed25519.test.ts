import { describe, expect, it } from 'vitest';
import { generateNodeKeyPair } from '../identity.ts';
import { bytesToBase64Url } from '../encoding.ts';
import {
  ed25519Engine,
  isValidSignature,
  signBody,
  useEd25519Engine,
  webCryptoEd25519,
  type Ed25519Engine,
} from '../signing.ts';
import { nodeEd25519 } from './ed25519.ts';

const engines: Ed25519Engine[] = [webCryptoEd25519, nodeEd25519];
const encoder = new TextEncoder();

describe('Ed25519 engines: node:crypto and WebCrypto agree', () => {
  it('each verifies what the other signs, and refuses a changed byte or signature', async () => {
    const keys = await generateNodeKeyPair();
    const bytes = encoder.encode('hexedge/v1/receipt\n{"a":1}');
    for (const signer of engines)
      for (const verifier of engines) {
        const signature = await signer.sign(keys.privateKey, bytes);
        expect(signature.length).toBe(64);
        expect(await verifier.verify(keys.nodeId, signature, bytes)).toBe(true);
        const changed = bytes.slice();
        changed[changed.length - 2] ^= 1;
        expect(await verifier.verify(keys.nodeId, signature, changed)).toBe(false);
        const flipped = signature.slice();
        flipped[10] ^= 0x40;
        expect(await verifier.verify(keys.nodeId, flipped, bytes)).toBe(false);
      }
  });

  it('signs deterministically: both engines give the same signature bytes (RFC 8032)', async () => {
    const keys = await generateNodeKeyPair();
    const bytes = encoder.encode('same bytes');
    const [a, b] = await Promise.all(engines.map((e) => e.sign(keys.privateKey, bytes)));
    expect(bytesToBase64Url(a!)).toBe(bytesToBase64Url(b!));
  });

  it("another node's key verifies nothing, and an id that is not a curve point is refused, not thrown", async () => {
    const [keys, other] = await Promise.all([generateNodeKeyPair(), generateNodeKeyPair()]);
    const bytes = encoder.encode('x');
    const signature = await nodeEd25519.sign(keys.privateKey, bytes);
    expect(await nodeEd25519.verify(other.nodeId, signature, bytes)).toBe(false);
    // 32 bytes of 0xff: y ≥ p, not an encoding of a point.
    const notAPoint = bytesToBase64Url(new Uint8Array(32).fill(0xff));
    expect(await nodeEd25519.verify(notAPoint, signature, bytes)).toBe(false);
  });

  it('the installed engine is what signBody and isValidSignature use', async () => {
    const calls: string[] = [];
    const counting: Ed25519Engine = {
      name: 'counting',
      sign: (k, b) => (calls.push('sign'), nodeEd25519.sign(k, b)),
      verify: (id, s, b) => (calls.push('verify'), nodeEd25519.verify(id, s, b)),
    };
    const previous = useEd25519Engine(counting);
    try {
      expect(ed25519Engine().name).toBe('counting');
      const keys = await generateNodeKeyPair();
      const signed = await signBody('receipt', { nodeId: keys.nodeId, n: 1 }, keys.privateKey);
      expect(await isValidSignature('receipt', signed)).toBe(true);
      expect(await isValidSignature('heartbeat', signed)).toBe(false);
      expect(calls).toEqual(['sign', 'verify', 'verify']);
    } finally {
      useEd25519Engine(previous);
    }
  });
});
