import { createRequire } from 'node:module';
import { KeyObject } from 'node:crypto';
import type { Ed25519Engine } from '../signing.ts';

/** The part of sodium-native (libsodium's bindings) this engine calls. */
interface Sodium {
  crypto_sign_SECRETKEYBYTES: number;
  crypto_sign_seed_keypair(publicKey: Buffer, secretKey: Buffer, seed: Buffer): void;
  crypto_sign_detached(signature: Buffer, message: Uint8Array, secretKey: Buffer): void;
  crypto_sign_verify_detached(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean;
  sodium_malloc(size: number): Buffer;
}

/**
 * libsodium through sodium-native, or why it is not there: its npm package ships prebuilt binaries for
 * the common platforms (no install script, no compiler), and a platform without one falls back to
 * node:crypto rather than failing to start.
 */
function loadSodium(): { sodium: Sodium } | { missing: string } {
  try {
    return { sodium: createRequire(import.meta.url)('sodium-native') as Sodium };
  } catch (err) {
    return { missing: (err as Error).message.split('\n')[0]! };
  }
}
const loaded = loadSodium();

/** Why libsodium is not used in this process, or undefined when it is available. */
export const sodiumMissing: string | undefined = 'missing' in loaded ? loaded.missing : undefined;

const PUBLIC_KEY_BYTES = 32;
const SIGNATURE_BYTES = 64;

/** Secret keys in libsodium's form (seed ‖ public key), in guarded memory, per CryptoKey. */
const secretKeys = new WeakMap<CryptoKey, Buffer>();

function secretKeyOf(sodium: Sodium, privateKey: CryptoKey): Buffer {
  let secret = secretKeys.get(privateKey);
  if (!secret) {
    // KeyObject.from keeps a non-extractable key inside the process; its seed goes straight into
    // libsodium's guarded allocation (no swap, guard pages), the JWK's copy is dropped with it.
    const seed = Buffer.from(KeyObject.from(privateKey).export({ format: 'jwk' }).d!, 'base64url');
    secret = sodium.sodium_malloc(sodium.crypto_sign_SECRETKEYBYTES);
    sodium.crypto_sign_seed_keypair(Buffer.alloc(PUBLIC_KEY_BYTES), secret, seed);
    seed.fill(0);
    secretKeys.set(privateKey, secret);
  }
  return secret;
}

/** Public keys decoded from node ids, kept for the ids a process sees again; bounded like node:crypto's. */
const PUBLIC_KEYS_MAX = 10_000;
const publicKeys = new Map<string, Uint8Array>();

function publicKeyOf(signerId: string): Uint8Array {
  let key = publicKeys.get(signerId);
  if (!key) {
    key = Buffer.from(signerId, 'base64url');
    if (publicKeys.size >= PUBLIC_KEYS_MAX) publicKeys.clear();
    publicKeys.set(signerId, key);
  }
  return key;
}

/**
 * Ed25519 through libsodium, synchronous: the same signatures as WebCrypto and node:crypto (Ed25519 is
 * deterministic: the same key and bytes give the same 64 bytes), at about 2.7× node:crypto's speed for
 * a verification and 2.2× for a signature on this project's machine (OpenSSL's Ed25519 is not its
 * fastest code). Its verdicts are the same for every signature an honest signer makes; libsodium is
 * stricter on three things a signer can only do to itself on purpose — a public key or a signature's R
 * of small order, or a public key not in canonical form — which OpenSSL and WebCrypto accept (cofactorless
 * verification); so whatever this engine accepts, any WebCrypto verifier accepts too (receipts stay
 * verifiable by anyone), and a node that crafts such a signature only loses its own answer
 * (ed25519-sodium.test.ts builds one).
 */
export const sodiumEd25519: Ed25519Engine | undefined =
  'sodium' in loaded
    ? {
        name: 'libsodium',
        sign(privateKey, bytes) {
          const signature = Buffer.alloc(SIGNATURE_BYTES);
          loaded.sodium.crypto_sign_detached(signature, bytes, secretKeyOf(loaded.sodium, privateKey));
          return new Uint8Array(signature.buffer, signature.byteOffset, SIGNATURE_BYTES);
        },
        verify(signerId, signature, bytes) {
          // The callers pass a well-formed node id (43 base64url characters: 32 bytes); the lengths are
          // checked here too, since libsodium's binding throws on a wrong-sized buffer.
          const key = publicKeyOf(signerId);
          if (key.length !== PUBLIC_KEY_BYTES || signature.length !== SIGNATURE_BYTES) return false;
          return loaded.sodium.crypto_sign_verify_detached(signature, bytes, key);
        },
      }
    : undefined;
