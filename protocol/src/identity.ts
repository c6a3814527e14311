import { base64UrlToBytes, bytesToBase64Url } from './encoding.ts';

/**
 * A node's identity is its Ed25519 public key; the node id is that key's 32 raw bytes in base64url
 * (43 characters). Everything goes through WebCrypto so the same code runs on Node and Workers.
 */
export const NODE_ID_PATTERN = /^[A-Za-z0-9_-]{43}$/;

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
  const pair = (await crypto.subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify'])) as CryptoKeyPair;
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
    key = crypto.subtle.importKey('raw', base64UrlToBytes(nodeId) as BufferSource, { name: 'Ed25519' }, true, [
      'verify',
    ]);
    key.catch(() => publicKeyCache.delete(nodeId));
    if (publicKeyCache.size >= PUBLIC_KEY_CACHE_MAX) publicKeyCache.clear();
    publicKeyCache.set(nodeId, key);
  }
  return key;
}
