import { exportKeyPair, generateNodeKeyPair, isValidSignature, signBody } from '@hexedge/protocol';
import { describe, expect, it } from 'vitest';
import { gatewayKeyFromSecret } from './worker-gateway-key.ts';

describe('gatewayKeyFromSecret (the Worker gateway’s HEXEDGE_GATEWAY_KEY)', () => {
  it('takes a report-key.json as is and signs as the id it names', async () => {
    const stored = await exportKeyPair(await generateNodeKeyPair());
    const keys = await gatewayKeyFromSecret(JSON.stringify(stored, null, 2) + '\n');
    expect(keys.nodeId).toBe(stored.nodeId);
    const signed = await signBody('registration', { nodeId: keys.nodeId, hello: 'node' }, keys.privateKey);
    expect(await isValidSignature('registration', signed)).toBe(true);
  });

  it.each([
    ['not JSON', 'privateKeyPkcs8=abc', /is not JSON/],
    ['JSON null', 'null', /no valid "nodeId"/],
    ['no nodeId', '{"privateKeyPkcs8":"AAAA"}', /no valid "nodeId"/],
    ['a nodeId of the wrong length', '{"nodeId":"abc","privateKeyPkcs8":"AAAA"}', /no valid "nodeId"/],
  ])('refuses %s, saying what is wrong', async (_, secret, message) => {
    await expect(gatewayKeyFromSecret(secret)).rejects.toThrow(message);
  });

  it('refuses a key that is not an Ed25519 private key, or whose nodeId is another key’s', async () => {
    const mine = await exportKeyPair(await generateNodeKeyPair());
    const other = await exportKeyPair(await generateNodeKeyPair());
    await expect(gatewayKeyFromSecret(JSON.stringify({ nodeId: mine.nodeId }))).rejects.toThrow(
      /no "privateKeyPkcs8"/,
    );
    await expect(
      gatewayKeyFromSecret(JSON.stringify({ nodeId: mine.nodeId, privateKeyPkcs8: 'AAAA' })),
    ).rejects.toThrow(/privateKeyPkcs8 is not an Ed25519 private key/);
    const claimed = gatewayKeyFromSecret(
      JSON.stringify({ nodeId: mine.nodeId, privateKeyPkcs8: other.privateKeyPkcs8 }),
    );
    await expect(claimed).rejects.toThrow(
      `nodeId ${mine.nodeId} is not the public key of its privateKeyPkcs8 (${other.nodeId})`,
    );
  });
});
