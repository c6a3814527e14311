import {
  base64UrlToBytes,
  canonicalBytes,
  isBatchSigned,
  sha256,
  sha256Hex,
  type Sha256Hex,
  type SignedReceipt,
} from '@hexedge/protocol';

/**
 * The receipt's identity; evidence and work are keyed by it. v1: SHA-256 of its canonical JSON (body
 * and signature, which Ed25519 makes deterministic). v2: SHA-256 of `{ v: 2, body }` only: the proof
 * and root say how it was signed, not what was done, so one answer is one unit of work whichever
 * batch a node put it in (a node signing a leaf into two roots gains nothing).
 */
export async function receiptHash(receipt: SignedReceipt, hash: Sha256Hex = sha256Hex): Promise<string> {
  if (isBatchSigned(receipt)) return hash(canonicalBytes({ v: receipt.v, body: receipt.body }));
  return hash(canonicalBytes(receipt));
}

export function hexToBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** 48 bits of the draw: exact in a double, and fine-grained enough for any rate worth configuring. */
const DRAW_RANGE = 2 ** 48;

/**
 * Deterministic, auditable sampling: a receipt is checked when SHA-256(seed ‖ receipt hash), read as a
 * fraction, is below the rate. The seed is secret during the epoch (so a node cannot tell which of its
 * answers will be checked and cheat on the rest) and published in the epoch's manifest, with its hash
 * committed in the previous one, so anyone can recompute which receipts had to be checked.
 */
export async function isSampled(options: {
  receiptHash: string;
  seed: string;
  rate: number;
  /** A runtime's faster SHA-256 (the same digest); WebCrypto's when absent. */
  sha256?: Sha256Hex;
}): Promise<boolean> {
  const { rate } = options;
  if (!(rate > 0)) return false;
  if (rate >= 1) return true;
  const seed = base64UrlToBytes(options.seed);
  const hash = hexToBytes(options.receiptHash);
  const input = new Uint8Array(seed.length + hash.length);
  input.set(seed, 0);
  input.set(hash, seed.length);
  let draw = 0;
  if (options.sha256) {
    // The first 6 bytes as 12 hex digits: the same 48-bit integer, exact in a double.
    draw = parseInt((await options.sha256(input)).slice(0, 12), 16);
  } else {
    const digest = await sha256(input);
    for (let i = 0; i < 6; i++) draw = draw * 256 + digest[i]!;
  }
  return draw / DRAW_RANGE < rate;
}

/** SHA-256 of a sampling seed, published ahead of the epoch it serves. */
export async function seedCommitment(seed: string): Promise<string> {
  return sha256Hex(base64UrlToBytes(seed));
}
