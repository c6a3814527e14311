import { describe, expect, it } from 'vitest';
import { base64UrlToBytes, bytesToBase64Url } from './encoding.ts';
import { exportKeyPair, generateNodeKeyPair, importKeyPair } from './identity.ts';
import { assertValidSignature, isValidSignature, signBody } from './signing.ts';

const body = (nodeId: string) => ({ nodeId, seq: 7, issuedAtMs: 1_700_000_000_000, models: [] });

describe('Ed25519 signing over canonical bytes', () => {
  it('verifies a signature regardless of key order in the body', async () => {
    const keys = await generateNodeKeyPair();
    const signed = await signBody('heartbeat', body(keys.nodeId), keys.privateKey);
    const reordered = { signature: signed.signature, body: { models: [], issuedAtMs: 1_700_000_000_000, seq: 7, nodeId: keys.nodeId } };
    expect(await isValidSignature('heartbeat', reordered)).toBe(true);
  });

  it('fails when any single byte of the signature is flipped', async () => {
    const keys = await generateNodeKeyPair();
    const signed = await signBody('heartbeat', body(keys.nodeId), keys.privateKey);
    const sig = base64UrlToBytes(signed.signature);
    for (const i of [0, 31, 63]) {
      const flipped = sig.slice();
      flipped[i] = flipped[i]! ^ 0x01;
      expect(await isValidSignature('heartbeat', { ...signed, signature: bytesToBase64Url(flipped) })).toBe(false);
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
});
