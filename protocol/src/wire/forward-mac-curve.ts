import { base64UrlToBytes, bytesToHex } from '../encoding.ts';
import { NODE_ID_PATTERN } from '../identity.ts';

/**
 * A node id (an Ed25519 public key) as the X25519 public key of the same identity, the way libsodium's
 * `crypto_sign_ed25519_pk_to_curve25519` maps it: the birational map u = (1 + y) / (1 − y) mod p from
 * the Edwards y coordinate to the Montgomery u coordinate. A key that is not a point of the curve, or
 * that is a point of small order (whose "shared secret" an attacker knows without any private key), is
 * refused with the reason; X25519's all-zero result is refused again where the agreement runs.
 * BigInt arithmetic: it runs once per peer (the keys are cached), not per request.
 */

const P = 2n ** 255n - 19n;
/** Edwards25519's d = −121665 / 121666 mod p (RFC 8032 §5.1). */
const D = mod(-121665n * inverse(121666n));

/**
 * The u coordinates of Curve25519's points of small order that a canonical y can map to: u = 0 (from
 * y = −1, order 2), u = 1 (from y = 0, order 4) and the two points of order 8 (the list libsodium and
 * Bernstein's "x25519 small-order points" give). y = 1 (the neutral point) has no u at all.
 */
const SMALL_ORDER_U = new Set([
  0n,
  1n,
  325606250916557431795983626356110631294008115727848805560023387167927233504n,
  39382357235489614581723060781553021112529911719440698176882885853963445705823n,
]);

function mod(a: bigint): bigint {
  const r = a % P;
  return r < 0n ? r + P : r;
}

function power(base: bigint, exponent: bigint): bigint {
  let result = 1n;
  let b = mod(base);
  for (let e = exponent; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * b) % P;
    b = (b * b) % P;
  }
  return result;
}

function inverse(a: bigint): bigint {
  return power(a, P - 2n);
}

function littleEndianToBigInt(bytes: Uint8Array): bigint {
  return BigInt(`0x${bytesToHex(Uint8Array.from(bytes).reverse()) || '0'}`);
}

function bigIntToLittleEndian(value: bigint): Uint8Array {
  const out = new Uint8Array(32);
  let v = value;
  for (let i = 0; i < 32; i++, v >>= 8n) out[i] = Number(v & 0xffn);
  return out;
}

export type X25519PublicKey = { ok: true; u: Uint8Array } | { ok: false; reason: string };

/** The X25519 public key (32 bytes, little-endian u) of the identity `nodeId` names, or why there is none. */
export function nodeIdToX25519(nodeId: string): X25519PublicKey {
  if (!NODE_ID_PATTERN.test(nodeId)) return { ok: false, reason: 'not a node id' };
  const bytes = base64UrlToBytes(nodeId);
  if (bytes.length !== 32) return { ok: false, reason: 'not a 32-byte key' };
  const xIsOdd = (bytes[31]! & 0x80) !== 0;
  const yBytes = Uint8Array.from(bytes);
  yBytes[31]! &= 0x7f;
  const y = littleEndianToBigInt(yBytes);
  if (y >= P) return { ok: false, reason: 'its y coordinate is not reduced mod 2^255 - 19' };
  if (y === 1n) return { ok: false, reason: 'it is the neutral point' };
  // On the curve iff x² = (y² − 1) / (d·y² + 1) has a root (RFC 8032 §5.1.3); d·y² + 1 ≠ 0 as d is no square.
  const y2 = (y * y) % P;
  const x2 = mod((y2 - 1n) * inverse(mod(D * y2 + 1n)));
  if (x2 === 0n ? xIsOdd : power(x2, (P - 1n) / 2n) !== 1n)
    return { ok: false, reason: 'it is not a point of Ed25519' };
  const u = mod((1n + y) * inverse(mod(1n - y)));
  if (SMALL_ORDER_U.has(u)) return { ok: false, reason: 'it is a point of small order' };
  return { ok: true, u: bigIntToLittleEndian(u) };
}
