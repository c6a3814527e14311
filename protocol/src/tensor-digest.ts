import { canonicalBytes } from './canonical.ts';
import { sha256Hex } from './encoding.ts';
import { tensorToBytes } from './tensor-bytes.ts';
import type { Tensor } from './tensors.ts';

/**
 * SHA-256 over the tensors sorted by name: the canonical JSON of their names, datatypes and shapes,
 * a newline, then each tensor's raw little-endian bytes. Values are thereby normalised to their
 * datatype (an FP32 sent as a JSON double digests as the float32 the model saw), and JSON and binary
 * requests with equal values digest alike. Receipts carry this digest of inputs and of outputs.
 */
export async function tensorsDigest(tensors: readonly Tensor[]): Promise<string> {
  return sha256Hex(tensorsDigestInput(tensors));
}

/** The bytes `tensorsDigest` hashes, for runtimes that hash faster than WebCrypto (node:crypto). */
export function tensorsDigestInput(tensors: readonly Tensor[]): Uint8Array {
  const sorted = [...tensors].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const header = canonicalBytes(sorted.map((t) => ({ name: t.name, datatype: t.datatype, shape: t.shape })));
  const parts = sorted.map(tensorToBytes);
  const out = new Uint8Array(header.length + 1 + parts.reduce((n, p) => n + p.length, 0));
  out.set(header, 0);
  out[header.length] = 0x0a;
  let at = header.length + 1;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** SHA-256 of a JSON value's canonical bytes: what receipts carry for domain (pipeline) requests. */
export async function jsonDigest(value: unknown): Promise<string> {
  return sha256Hex(canonicalBytes(value));
}
