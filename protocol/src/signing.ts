import { canonicalJson } from './canonical.ts';
import { base64UrlToBytes, bytesToBase64Url } from './encoding.ts';
import { HexEdgeError } from './errors.ts';
import { importPublicKey, NODE_ID_PATTERN, SIGNATURE_PATTERN } from './identity.ts';

/**
 * What is signed: a domain tag (so a heartbeat's signature can never pass as a receipt's) and the
 * canonical JSON of the body. The signer's node id travels inside the body, so a verifier needs no
 * key directory: the id *is* the key.
 */
export type SignedKind =
  | 'registration'
  | 'heartbeat'
  | 'receipt'
  | 'challenge-response'
  | 'report'
  | 'oracle-trust'
  | 'stake'
  | 'forward'
  | 'forward-batch'
  | 'receipt-root'
  | 'report-root';

export interface Signed<T> {
  body: T;
  signature: string;
}

const encoder = new TextEncoder();

/**
 * Where Ed25519 runs. WebCrypto by default (every runtime has it); a runtime with a faster, synchronous
 * implementation of the same algorithm installs its own with `useEd25519Engine` (the Node builders
 * install node:crypto's: no thread-pool hop per call, ~40 µs a signature and ~110 µs a verification
 * here against ~85 and ~150 µs through WebCrypto). The engine changes nothing of what is signed or
 * accepted: the same bytes, the same 64-byte signatures, the same verdicts.
 */
export interface Ed25519Engine {
  readonly name: string;
  /** The raw 64-byte signature over `bytes`. */
  sign(privateKey: CryptoKey, bytes: Uint8Array): Uint8Array | Promise<Uint8Array>;
  /** Whether `signature` (64 bytes) is `signerId`'s (a well-formed node id: its raw public key) over `bytes`. */
  verify(signerId: string, signature: Uint8Array, bytes: Uint8Array): boolean | Promise<boolean>;
}

export const webCryptoEd25519: Ed25519Engine = {
  name: 'webcrypto',
  async sign(privateKey, bytes) {
    return new Uint8Array(await crypto.subtle.sign({ name: 'Ed25519' }, privateKey, bytes as BufferSource));
  },
  async verify(signerId, signature, bytes) {
    const key = await importPublicKey(signerId);
    return crypto.subtle.verify({ name: 'Ed25519' }, key, signature as BufferSource, bytes as BufferSource);
  },
};

let engine: Ed25519Engine = webCryptoEd25519;

/** Installs the process's Ed25519 engine (returns the one it replaces, for tests). */
export function useEd25519Engine(next: Ed25519Engine): Ed25519Engine {
  const previous = engine;
  engine = next;
  return previous;
}

/** The engine signatures run on now. */
export function ed25519Engine(): Ed25519Engine {
  return engine;
}

/**
 * The exact bytes a signature covers: a domain tag naming the kind of message, then the body's
 * canonical JSON. Exported so a runtime with a faster signer (node:crypto) signs the same bytes.
 */
export function signingInput(kind: SignedKind, body: unknown): Uint8Array {
  // One UTF-8 encoding of tag and JSON together (the tag is ASCII): the same bytes, no second copy.
  return encoder.encode(`hexedge/v1/${kind}\n${canonicalJson(body)}`);
}

export async function signBody<T extends { nodeId: string }>(
  kind: SignedKind,
  body: T,
  privateKey: CryptoKey,
): Promise<Signed<T>> {
  const signature = await engine.sign(privateKey, signingInput(kind, body));
  return { body, signature: bytesToBase64Url(signature) };
}

/** True when `signature` is `body.nodeId`'s Ed25519 signature over the body; false for any mismatch. */
export async function isValidSignature(
  kind: SignedKind,
  signed: Signed<{ nodeId: string }>,
): Promise<boolean> {
  return isValidSignatureNow(kind, signed);
}

/**
 * `isValidSignature`, answered synchronously when the engine verifies synchronously (libsodium's,
 * node:crypto's): a verifier checking a batch root as its first leaf arrives needs no promise, and the
 * leaves after it find the root verified. The same checks and verdicts.
 */
export function isValidSignatureNow(
  kind: SignedKind,
  signed: Signed<{ nodeId: string }>,
): boolean | Promise<boolean> {
  const { body, signature } = signed;
  if (typeof body?.nodeId !== 'string' || !NODE_ID_PATTERN.test(body.nodeId)) return false;
  // Only the canonical spelling: the same 64 bytes spelt another way would hash as another message.
  if (typeof signature !== 'string' || !SIGNATURE_PATTERN.test(signature)) return false;
  let sig: Uint8Array;
  try {
    sig = base64UrlToBytes(signature);
  } catch {
    return false;
  }
  if (sig.length !== 64) return false;
  return engine.verify(body.nodeId, sig, signingInput(kind, body));
}

/**
 * True when `signature` is `signerId`'s signature over `body` (kind-tagged canonical JSON), for a
 * second signer of a body whose `nodeId` is someone else (a node consenting to its operator's bond).
 */
export async function isValidSignatureFrom(options: {
  kind: SignedKind;
  body: unknown;
  signature: unknown;
  signerId: string;
}): Promise<boolean> {
  const { kind, body, signature, signerId } = options;
  if (typeof signerId !== 'string' || !NODE_ID_PATTERN.test(signerId)) return false;
  if (typeof signature !== 'string' || !SIGNATURE_PATTERN.test(signature)) return false;
  let sig: Uint8Array;
  try {
    sig = base64UrlToBytes(signature);
  } catch {
    return false;
  }
  if (sig.length !== 64) return false;
  return engine.verify(signerId, sig, signingInput(kind, body));
}

/** Signs `body` (kind-tagged canonical JSON) with a key other than the one `body.nodeId` names. */
export async function signBodyAs(kind: SignedKind, body: unknown, privateKey: CryptoKey): Promise<string> {
  return bytesToBase64Url(await engine.sign(privateKey, signingInput(kind, body)));
}

export async function assertValidSignature(
  kind: SignedKind,
  signed: Signed<{ nodeId: string }>,
): Promise<void> {
  if (!(await isValidSignature(kind, signed))) {
    throw new HexEdgeError(
      'BAD_SIGNATURE',
      `${kind} signature does not verify for node ${signed.body.nodeId}`,
    );
  }
}
