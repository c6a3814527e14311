import { createHash, createPrivateKey, createPublicKey } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { base64UrlToBytes, bytesToHex } from '../encoding.ts';
import { exportKeyPair, generateNodeKeyPair, importKeyPair } from '../identity.ts';
import { nodeIdToX25519 } from '../wire/forward-mac-curve.ts';
import {
  useForwardMacEngine,
  webCryptoForwardMac,
  x25519Pkcs8,
  type ForwardMacEngine,
} from '../wire/forward-mac-engine.ts';
import { FORWARD_MAC_HEADER, ForwardMacKeys, macForward } from '../wire/forward-mac.ts';
import { checkForward } from '../wire/forward-signature.ts';
import { nodeForwardMac } from './forward-mac-node.ts';

const engines: ForwardMacEngine[] = [webCryptoForwardMac, nodeForwardMac];
const NOW = 1_750_000_000_000;
const TARGET = { route: 'infer' as const, modelName: 'comfort-index', modelVersion: '1' };
const BODY = '{"id":"r1","inputs":[{"name":"readings","datatype":"FP32","shape":[1,3],"data":[29,55,900]}]}';

afterEach(() => void useForwardMacEngine(webCryptoForwardMac));

describe('forward-MAC engines: node:crypto and WebCrypto agree', () => {
  it('derive the same key and MAC for a pair, and each checks what the other made', async () => {
    const [gateway, node] = await Promise.all([generateNodeKeyPair(), generateNodeKeyPair()]);
    const macs = [];
    for (const engine of engines) {
      useForwardMacEngine(engine);
      // Fresh key sets: nothing derived under the other engine is reused.
      const headers = await macForward({
        macs: new ForwardMacKeys({ keys: gateway }),
        targetNodeId: node.nodeId,
        ...TARGET,
        body: BODY,
        nowMs: NOW,
      });
      macs.push(headers![FORWARD_MAC_HEADER]);
    }
    expect(macs[0]).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(macs[1]).toBe(macs[0]);
    for (const engine of engines) {
      useForwardMacEngine(engine);
      const headers = await macForward({
        macs: new ForwardMacKeys({ keys: gateway }),
        targetNodeId: node.nodeId,
        ...TARGET,
        body: BODY,
        nowMs: NOW,
      });
      for (const checker of engines) {
        useForwardMacEngine(checker);
        const check = await checkForward({
          header: (name) => headers![name],
          targetNodeId: node.nodeId,
          ...TARGET,
          body: BODY,
          isKnown: (id) => id === gateway.nodeId,
          nowMs: NOW,
          macs: new ForwardMacKeys({ keys: node }),
        });
        expect(check, `${engine.name} → ${checker.name}`).toEqual({ ok: true, forwarderId: gateway.nodeId });
      }
    }
  });

  it('give one HKDF and HMAC output (RFC 4231 case 2 for HMAC-SHA256)', async () => {
    const secret = Uint8Array.from({ length: 32 }, (_, i) => i);
    const salt = new TextEncoder().encode('salt');
    const info = new TextEncoder().encode('info');
    const keys = await Promise.all(engines.map((e) => e.hkdf({ secret, salt, info })));
    expect(bytesToHex(keys[1]!)).toBe(bytesToHex(keys[0]!));
    const key = new TextEncoder().encode('Jefe');
    for (const e of engines)
      expect(
        bytesToHex(
          await e.mac(await e.macKey(key), new TextEncoder().encode('what do ya want for nothing?')),
        ),
      ).toBe('5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
  });

  it('use the scalar libsodium’s sk_to_curve25519 gives: its X25519 public key is the node id’s birational map', async () => {
    for (let i = 0; i < 3; i++) {
      const keys = await generateNodeKeyPair();
      const { privateKeyPkcs8 } = await exportKeyPair(keys);
      const seed = base64UrlToBytes(privateKeyPkcs8).slice(-32);
      const scalar = createHash('sha512').update(seed).digest();
      const x = createPrivateKey({ key: Buffer.from(x25519Pkcs8(scalar)), format: 'der', type: 'pkcs8' });
      const publicU = Buffer.from(createPublicKey(x).export({ format: 'jwk' }).x!, 'base64url');
      const mapped = nodeIdToX25519(keys.nodeId);
      expect(mapped.ok && bytesToHex(mapped.u)).toBe(publicU.toString('hex'));
    }
    // And a key read back from its key file agrees the same secret.
    const keys = await generateNodeKeyPair();
    const again = await importKeyPair(await exportKeyPair(keys));
    const peer = await generateNodeKeyPair();
    const u = nodeIdToX25519(peer.nodeId);
    if (!u.ok) throw new Error(u.reason);
    for (const e of engines)
      expect(bytesToHex(await e.agree(again.privateKey, u.u))).toBe(
        bytesToHex(await engines[0]!.agree(keys.privateKey, u.u)),
      );
  });

  it('refuse an agreement with a point of small order (X25519’s all-zero result)', async () => {
    const keys = await generateNodeKeyPair();
    const order8 = Buffer.from('e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800', 'hex');
    for (const u of [new Uint8Array(32), Uint8Array.from([1, ...new Array(31).fill(0)]), order8])
      for (const e of engines)
        await expect(
          Promise.resolve().then(() => e.agree(keys.privateKey, u)),
          e.name,
        ).rejects.toThrow();
  });
});
