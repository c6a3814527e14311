import { base64UrlToBytes } from '../encoding.ts';

/**
 * Where the forward MAC's primitives run (forward-mac.ts): X25519, HKDF-SHA256 and HMAC-SHA256.
 * WebCrypto by default (Node 22 and workerd have all three); a runtime with faster synchronous ones
 * installs its own with `useForwardMacEngine` (protocol/node's `useNodeEd25519` installs node:crypto's,
 * beside its Ed25519 engine). An engine changes nothing of the bytes: the same keys, the same MACs
 * (tested across both).
 */
export interface ForwardMacEngine {
  readonly name: string;
  /**
   * X25519 between this identity and a peer: the private scalar is SHA-512(Ed25519 seed)[0..32] (X25519
   * clamps it), as libsodium's `crypto_sign_ed25519_sk_to_curve25519`; `peerU` the peer's u
   * (forward-mac-curve.ts). The raw 32-byte shared secret; throws where the runtime refuses one
   * (an all-zero result).
   */
  agree(privateKey: CryptoKey, peerU: Uint8Array): Uint8Array | Promise<Uint8Array>;
  /** HKDF-SHA256 (RFC 5869): 32 bytes. */
  hkdf(options: { secret: Uint8Array; salt: Uint8Array; info: Uint8Array }): Uint8Array | Promise<Uint8Array>;
  /** An HMAC-SHA256 key, in the engine's own form, from 32 raw bytes. */
  macKey(raw: Uint8Array): unknown;
  /** HMAC-SHA256 of `bytes` under a key `macKey` made: 32 bytes. */
  mac(key: unknown, bytes: Uint8Array): Uint8Array | Promise<Uint8Array>;
}

/** PKCS#8 of an X25519 private key (RFC 8410): this prefix, then the 32 private bytes. */
export const X25519_PKCS8_PREFIX = Uint8Array.from([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x04, 0x22, 0x04, 0x20,
]);

export function x25519Pkcs8(scalar: Uint8Array): Uint8Array {
  const der = new Uint8Array(X25519_PKCS8_PREFIX.length + 32);
  der.set(X25519_PKCS8_PREFIX);
  der.set(scalar.subarray(0, 32), X25519_PKCS8_PREFIX.length);
  return der;
}

/** The X25519 private keys of Ed25519 keys already converted (per key object; gone with the key). */
const x25519Keys = new WeakMap<CryptoKey, Promise<CryptoKey>>();

async function webX25519PrivateKey(privateKey: CryptoKey): Promise<CryptoKey> {
  // The seed is the JWK's `d` (node keys are extractable: they are stored in key files).
  const { d } = await crypto.subtle.exportKey('jwk', privateKey);
  if (!d) throw new TypeError('the Ed25519 private key has no seed to export');
  const hash = new Uint8Array(await crypto.subtle.digest('SHA-512', base64UrlToBytes(d) as BufferSource));
  return crypto.subtle.importKey('pkcs8', x25519Pkcs8(hash) as BufferSource, { name: 'X25519' }, false, [
    'deriveBits',
  ]);
}

export const webCryptoForwardMac: ForwardMacEngine = {
  name: 'webcrypto',
  async agree(privateKey, peerU) {
    let mine = x25519Keys.get(privateKey);
    if (!mine) x25519Keys.set(privateKey, (mine = webX25519PrivateKey(privateKey)));
    const peer = await crypto.subtle.importKey('raw', peerU as BufferSource, { name: 'X25519' }, true, []);
    const bits = await crypto.subtle.deriveBits({ name: 'X25519', public: peer }, await mine, 256);
    return new Uint8Array(bits);
  },
  async hkdf({ secret, salt, info }) {
    const ikm = await crypto.subtle.importKey('raw', secret as BufferSource, 'HKDF', false, ['deriveBits']);
    const bits = await crypto.subtle.deriveBits(
      { name: 'HKDF', hash: 'SHA-256', salt: salt as BufferSource, info: info as BufferSource },
      ikm,
      256,
    );
    return new Uint8Array(bits);
  },
  macKey(raw) {
    return crypto.subtle.importKey('raw', raw as BufferSource, { name: 'HMAC', hash: 'SHA-256' }, false, [
      'sign',
    ]);
  },
  async mac(key, bytes) {
    return new Uint8Array(
      await crypto.subtle.sign('HMAC', await (key as Promise<CryptoKey>), bytes as BufferSource),
    );
  },
};

let engine: ForwardMacEngine = webCryptoForwardMac;

/** Installs the process's forward-MAC engine (returns the one it replaces, for tests). */
export function useForwardMacEngine(next: ForwardMacEngine): ForwardMacEngine {
  const previous = engine;
  engine = next;
  return previous;
}

/** The engine forward MACs run on now. */
export function forwardMacEngine(): ForwardMacEngine {
  return engine;
}
