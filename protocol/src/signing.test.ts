import { describe, expect, it } from 'vitest';
import { base64UrlToBytes, bytesToBase64Url } from './encoding.ts';
import {
  exportKeyPair,
  generateNodeKeyPair,
  importKeyPair,
  NODE_ID_PATTERN,
  SIGNATURE_PATTERN,
} from './identity.ts';
import { nodeIdSchema } from './schemas/node.ts';
import { assertValidSignature, isValidSignature, signBody } from './signing.ts';

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
/** Every other spelling of the same bytes: the last character with different unused low bits. */
function respellings(text: string, unusedBits: number): string[] {
  const last = BASE64URL.indexOf(text.at(-1)!);
  const mask = (1 << unusedBits) - 1;
  return Array.from({ length: mask + 1 }, (_, low) => (last & ~mask) | low)
    .filter((i) => i !== last)
    .map((i) => text.slice(0, -1) + BASE64URL[i]);
}

const body = (nodeId: string) => ({ nodeId, seq: 7, issuedAtMs: 1_700_000_000_000, models: [] });

describe('Ed25519 signing over canonical bytes', () => {
  it('verifies a signature regardless of key order in the body', async () => {
    const keys = await generateNodeKeyPair();
    const signed = await signBody('heartbeat', body(keys.nodeId), keys.privateKey);
    const reordered = {
      signature: signed.signature,
      body: { models: [], issuedAtMs: 1_700_000_000_000, seq: 7, nodeId: keys.nodeId },
    };
    expect(await isValidSignature('heartbeat', reordered)).toBe(true);
  });

  it('fails when any single byte of the signature is flipped', async () => {
    const keys = await generateNodeKeyPair();
    const signed = await signBody('heartbeat', body(keys.nodeId), keys.privateKey);
    const sig = base64UrlToBytes(signed.signature);
    for (const i of [0, 31, 63]) {
      const flipped = sig.slice();
      flipped[i] = flipped[i]! ^ 0x01;
      expect(await isValidSignature('heartbeat', { ...signed, signature: bytesToBase64Url(flipped) })).toBe(
        false,
      );
    }
  });

  it('fails when the body changes after signing', async () => {
    const keys = await generateNodeKeyPair();
    const signed = await signBody('heartbeat', body(keys.nodeId), keys.privateKey);
    const tampered = { ...signed, body: { ...signed.body, seq: 8 } };
    expect(await isValidSignature('heartbeat', tampered)).toBe(false);
  });

  it('fails for another kind of message (domain separation) and for another key', async () => {
    const keys = await generateNodeKeyPair();
    const other = await generateNodeKeyPair();
    const signed = await signBody('heartbeat', body(keys.nodeId), keys.privateKey);
    expect(await isValidSignature('receipt', signed)).toBe(false);
    const forged = await signBody('heartbeat', body(keys.nodeId), other.privateKey);
    expect(await isValidSignature('heartbeat', forged)).toBe(false);
    await expect(assertValidSignature('heartbeat', forged)).rejects.toMatchObject({ code: 'BAD_SIGNATURE' });
  });

  it('refuses malformed ids and signatures without throwing', async () => {
    expect(await isValidSignature('heartbeat', { body: { nodeId: 'nope' }, signature: 'x' })).toBe(false);
    const keys = await generateNodeKeyPair();
    expect(await isValidSignature('heartbeat', { body: body(keys.nodeId), signature: '!!!' })).toBe(false);
  });

  it('round-trips a key pair through its stored form', async () => {
    const keys = await generateNodeKeyPair();
    const restored = await importKeyPair(await exportKeyPair(keys));
    const signed = await signBody('receipt', { nodeId: restored.nodeId, n: 1 }, restored.privateKey);
    expect(restored.nodeId).toBe(keys.nodeId);
    expect(await isValidSignature('receipt', signed)).toBe(true);
  });

  it('accepts only the canonical base64url spelling of a signature and of a node id (the same bytes spelt otherwise verify under a lenient decoder)', async () => {
    const keys = await generateNodeKeyPair();
    const signed = await signBody('receipt', { nodeId: keys.nodeId, n: 1 }, keys.privateKey);
    expect(SIGNATURE_PATTERN.test(signed.signature)).toBe(true);
    const otherSignatures = respellings(signed.signature, 4);
    expect(otherSignatures).toHaveLength(15);
    for (const signature of otherSignatures) {
      expect(base64UrlToBytes(signature)).toEqual(base64UrlToBytes(signed.signature));
      expect(await isValidSignature('receipt', { ...signed, signature })).toBe(false);
    }
    const otherIds = respellings(keys.nodeId, 2);
    expect(otherIds).toHaveLength(3);
    for (const nodeId of otherIds) {
      expect(base64UrlToBytes(nodeId)).toEqual(base64UrlToBytes(keys.nodeId));
      expect(NODE_ID_PATTERN.test(nodeId)).toBe(false);
      expect(nodeIdSchema.safeParse(nodeId).success).toBe(false);
    }
    expect(nodeIdSchema.safeParse(keys.nodeId).success).toBe(true);
    // A generated key's id and signature are always canonical (the encoder writes zero padding bits).
    for (let i = 0; i < 20; i++) {
      const k = await generateNodeKeyPair();
      expect(NODE_ID_PATTERN.test(k.nodeId)).toBe(true);
      expect(
        SIGNATURE_PATTERN.test(
          (await signBody('receipt', { nodeId: k.nodeId, n: i }, k.privateKey)).signature,
        ),
      ).toBe(true);
    }
  });
});
