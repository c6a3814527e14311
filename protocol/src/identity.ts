import { base64UrlToBytes, bytesToBase64Url } from './encoding.ts';

/**
 * A node's identity is its Ed25519 public key; the node id is that key's 32 raw bytes in base64url
 * (43 characters). Everything goes through WebCrypto so the same code runs on Node and Workers.
 */
// Only the canonical spelling is accepted: a lenient decoder ignores the bits past the last whole byte,
// so without this one key (or one signature) would have 4 (or 16) spellings that all verify, and
// anything keyed by the text (a receipt's hash, a node's standing) would count it as several.
/** 32 bytes in 43 base64url characters (258 bits): the last character's low 2 bits must be zero. */
export const NODE_ID_PATTERN = /^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/;
/** 64 bytes in 86 base64url characters (516 bits): the last character's low 4 bits must be zero. */
export const SIGNATURE_PATTERN = /^[A-Za-z0-9_-]{85}[AQgw]$/;

export interface NodeKeyPair {
  nodeId: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
}

/** The serialisable form kept in the node's data directory (file mode 0600). */
export interface StoredKeyPair {
  nodeId: string;
  privateKeyPkcs8: string;
}

export async function generateNodeKeyPair(): Promise<NodeKeyPair> {
  const pair = (await crypto.subtle.generateKey({ name: 'Ed25519' }, true, [
    'sign',
    'verify',
  ])) as CryptoKeyPair;
  const raw = new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey));
  return { nodeId: bytesToBase64Url(raw), privateKey: pair.privateKey, publicKey: pair.publicKey };
}

export async function exportKeyPair(pair: NodeKeyPair): Promise<StoredKeyPair> {
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey('pkcs8', pair.privateKey));
  return { nodeId: pair.nodeId, privateKeyPkcs8: bytesToBase64Url(pkcs8) };
}

export async function importKeyPair(stored: StoredKeyPair): Promise<NodeKeyPair> {
  const privateKey = await crypto.subtle.importKey(
    'pkcs8',
    base64UrlToBytes(stored.privateKeyPkcs8) as BufferSource,
    { name: 'Ed25519' },
    true,
    ['sign'],
  );
  const publicKey = await importPublicKey(stored.nodeId);
  return { nodeId: stored.nodeId, privateKey, publicKey };
}

const publicKeyCache = new Map<string, Promise<CryptoKey>>();
const PUBLIC_KEY_CACHE_MAX = 10_000;

/** Imports (and caches) the verification key named by a node id. Throws TypeError on a malformed id. */
export function importPublicKey(nodeId: string): Promise<CryptoKey> {
  let key = publicKeyCache.get(nodeId);
  if (!key) {
    if (!NODE_ID_PATTERN.test(nodeId)) throw new TypeError(`not a node id: ${JSON.stringify(nodeId)}`);
    key = crypto.subtle.importKey(
      'raw',
      base64UrlToBytes(nodeId) as BufferSource,
      { name: 'Ed25519' },
      true,
      ['verify'],
    );
    key.catch(() => publicKeyCache.delete(nodeId));
    if (publicKeyCache.size >= PUBLIC_KEY_CACHE_MAX) publicKeyCache.clear();
    publicKeyCache.set(nodeId, key);
  }
  return key;
}
