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
  const parts = tensorsDigestParts(tensors);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * The same bytes as `tensorsDigestInput`, in pieces (the header with its newline, then each tensor's
 * bytes, views where a tensor holds its typed array): an incremental hash (node:crypto's update) takes
 * them one by one without the joined copy.
 */
export function tensorsDigestParts(tensors: readonly Tensor[]): Uint8Array[] {
  const sorted =
    tensors.length < 2
      ? tensors
      : [...tensors].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return [headerOf(sorted), NEWLINE, ...sorted.map(tensorToBytes)];
}

/** Headers kept (one per list of names, datatypes and shapes a model takes or gives); cleared when full. */
const MAX_CACHED_HEADERS = 1024;
const singleHeaders = new Map<string, Uint8Array>();
const PLAIN_DATATYPE = /^[A-Z0-9]+$/;

/**
 * The canonical JSON of the tensors' names, datatypes and shapes. A single tensor's — the same on
 * every request of a model — is made once: canonical JSON and its UTF-8 encoding were ~1 µs a digest,
 * two digests a request at the gateway and the node (several outputs: the same, per list). Only a key
 * that names one header is cached: per tensor an OIP-style datatype (no separator in it), a shape of
 * safe non-negative integers (digits and commas) and a string name (see headerKeyOf).
 */
function headerOf(sorted: readonly Tensor[]): Uint8Array {
  const fresh = () =>
    canonicalBytes(sorted.map((t) => ({ name: t.name, datatype: t.datatype, shape: t.shape })));
  if (sorted.length === 0 || sorted.length > MAX_CACHED_TENSORS) return fresh();
  // A lone tensor's key starts with its datatype; a key of several starts each part with U+0001.
  let key = '';
  for (const t of sorted) {
    const part = headerKeyOf(t, sorted.length === 1);
    if (part === undefined) return fresh();
    key = sorted.length === 1 ? part : `${key}\u0001${part}`;
  }
  let header = singleHeaders.get(key);
  if (header === undefined) {
    header = fresh();
    if (singleHeaders.size >= MAX_CACHED_HEADERS) singleHeaders.clear();
    singleHeaders.set(key, header);
  }
  return header;
}
const NEWLINE = new Uint8Array([0x0a]);
/** Models give a few outputs (a label and its scores); a header of more tensors is made each time. */
const MAX_CACHED_TENSORS = 8;

/**
 * One tensor's part of a cache key, or undefined when it cannot name one header. A lone tensor's name
 * goes last, as it is (it may hold anything); in a key of several tensors each name is JSON-quoted, so
 * no name can run into the next tensor's part (quoted, it holds no raw U+0001).
 */
function headerKeyOf(t: Tensor, alone: boolean): string | undefined {
  const { name, datatype, shape } = t;
  if (typeof name !== 'string' || typeof datatype !== 'string' || !PLAIN_DATATYPE.test(datatype))
    return undefined;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) return undefined;
  return `${datatype}\u0000${shape.join(',')}\u0000${alone ? name : JSON.stringify(name)}`;
}

/** SHA-256 of a JSON value's canonical bytes: what receipts carry for domain (pipeline) requests. */
export async function jsonDigest(value: unknown): Promise<string> {
  return sha256Hex(canonicalBytes(value));
}
