import { createPublicKey, KeyObject, sign, verify } from 'node:crypto';
import { useEd25519Engine, type Ed25519Engine } from '../signing.ts';
import { sodiumEd25519, sodiumMissing } from './ed25519-sodium.ts';
import { useNodeForwardMac } from './forward-mac-node.ts';

/** Public keys made from node ids, kept for the ids a process sees again (peers, nodes, gateways). */
const PUBLIC_KEYS_MAX = 10_000;
const publicKeys = new Map<string, KeyObject>();
const privateKeys = new WeakMap<CryptoKey, KeyObject>();

/** The node:crypto key object of a node id (a well-formed one: base64url of the raw key), cached. */
export function ed25519PublicKeyOf(signerId: string): KeyObject {
  let key = publicKeys.get(signerId);
  if (!key) {
    // The id is a well-formed node id (the callers check NODE_ID_PATTERN): base64url of the raw key.
    key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: signerId }, format: 'jwk' });
    // Bounded: a flood of fresh ids (each a free identity) clears the cache rather than growing it.
    if (publicKeys.size >= PUBLIC_KEYS_MAX) publicKeys.clear();
    publicKeys.set(signerId, key);
  }
  return key;
}

/**
 * Ed25519 through node:crypto (OpenSSL), synchronous: the same signatures and verdicts as WebCrypto's,
 * without a thread-pool job and a promise per call. A non-extractable CryptoKey converts with
 * `KeyObject.from` (the key stays in the process).
 */
export const nodeEd25519: Ed25519Engine = {
  name: 'node:crypto',
  sign(privateKey, bytes) {
    let key = privateKeys.get(privateKey);
    if (!key) privateKeys.set(privateKey, (key = KeyObject.from(privateKey)));
    const signature = sign(null, bytes, key);
    return new Uint8Array(signature.buffer, signature.byteOffset, signature.byteLength);
  },
  verify(signerId, signature, bytes) {
    try {
      return verify(null, bytes, ed25519PublicKeyOf(signerId), signature);
    } catch {
      // A key that does not decode to a curve point verifies nothing (WebCrypto's import would reject).
      return false;
    }
  },
};

/**
 * The same, with verification on libuv's thread pool (node:crypto's callback form): for a process
 * whose load is many independent signatures (the oracle's ingest of v1 reports), so they use every
 * core and the event loop stays free; measured 0.45–0.61× raw verify there against 0.30× synchronous.
 */
export const nodeEd25519OnPool: Ed25519Engine = {
  name: 'node:crypto (thread pool)',
  sign: nodeEd25519.sign,
  verify(signerId, signature, bytes) {
    let key: KeyObject;
    try {
      key = ed25519PublicKeyOf(signerId);
    } catch {
      return false;
    }
    return new Promise((resolve) => verify(null, bytes, key, signature, (err, ok) => resolve(!err && ok)));
  },
};

/**
 * Installs the process's Ed25519 engine (the Node builders call it; idempotent) and returns it:
 * libsodium where sodium-native loads (ed25519-sodium.ts: the same signatures, ~2.7× faster
 * verification than OpenSSL here), else node:crypto — with verifications on the thread pool
 * (`nodeEd25519OnPool`) when `verifyOnPool` (the oracle: many independent checks; libsodium's are
 * cheaper on the event loop than OpenSSL's on the pool). Also the engine of the forward MACs agreed
 * between Ed25519 identities (X25519, HKDF, HMAC: forward-mac-node.ts). The builders log the engine's
 * name, and why libsodium is missing where it is.
 */
export function useNodeEd25519(options: { verifyOnPool?: boolean } = {}): Ed25519Engine {
  const engine = sodiumEd25519 ?? (options.verifyOnPool ? nodeEd25519OnPool : nodeEd25519);
  useEd25519Engine(engine);
  useNodeForwardMac();
  return engine;
}

/** One log line naming the Ed25519 engine in use, and why libsodium is not, where it is not. */
export function describeEd25519Engine(engine: Ed25519Engine): string {
  return sodiumMissing === undefined
    ? `Ed25519: ${engine.name}`
    : `Ed25519: ${engine.name} (libsodium unavailable: ${sodiumMissing})`;
}
