import { BATCH_SIGNED_VERSION } from '../batch/batch-signing.ts';
import { MAX_BATCH_LEAVES } from '../batch/merkle.ts';
import { NODE_ID_PATTERN, SIGNATURE_PATTERN } from '../identity.ts';

/**
 * Hand-written checks for the shapes ingest and receipt checks parse on every message, as a fast path
 * in front of their zod schemas, which stay the spec. Each check answers only "zod would accept this
 * value and return a deep copy equal to it": every rule of the schema holds, no key zod would strip
 * is present (so the value can be used as it is), no own key holds `undefined`. Anything else —
 * including what zod would accept after stripping a key — answers false, and the caller parses with
 * the zod schema, which then accepts, strips or builds the error exactly as before. So a wrong answer
 * here can only cost speed, never change a verdict, as long as true implies zod's acceptance.
 * Length limits are checked in UTF-16 units: a string within `max` units is within `max` code points
 * (zod's measure), and a non-empty string has at least one code point.
 */

export const SHA256_HEX_PATTERN = /^[0-9a-f]{64}$/;
export { SIGNATURE_PATTERN };
/** The parsed-proof bound of receipt.ts's batchProofSchema (MAX_PARSED_PROOF_HASHES). */
export const FAST_MAX_PARSED_PROOF_HASHES = 48;

/** Allowed keys, in a null-prototype object (so `allowed['__proto__']` or `allowed.toString` is never inherited). */
export type Fields = Readonly<Record<string, true>>;

/** A plain object (as JSON.parse makes them) whose enumerable keys are all in `allowed`, none undefined. */
export function isPlainWith(value: unknown, allowed: Fields): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Object.getPrototypeOf(value) !== Object.prototype)
    return false;
  // for…in also walks inherited enumerable keys: a polluted prototype fails the check, it is not skipped.
  for (const key in value) {
    if (allowed[key] !== true) return false;
    if ((value as Record<string, unknown>)[key] === undefined) return false;
  }
  return true;
}

export const isStringWithin = (v: unknown, min: number, max: number): v is string =>
  typeof v === 'string' && v.length >= min && v.length <= max;
export const isNonNegativeInt = (v: unknown, max: number = Number.MAX_SAFE_INTEGER): v is number =>
  typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && v <= max;
export const isMatch = (v: unknown, pattern: RegExp): v is string => typeof v === 'string' && pattern.test(v);

/**
 * `isMatch` for values that repeat across the messages of one batch (a root's signer, root and
 * signature on each of its leaves, a gateway's id on each of its reports): a string equal to one that
 * matched lately matches too, found by comparing values (a few ns each, a length check for most)
 * before the pattern runs (~150 ns). Holds the last `size` matches.
 */
export class RecentMatches {
  readonly #pattern: RegExp;
  readonly #size: number;
  readonly #seen: string[] = [];
  #next = 0;

  constructor(pattern: RegExp, size = 8) {
    this.#pattern = pattern;
    this.#size = size;
  }

  test(v: unknown): v is string {
    if (typeof v !== 'string') return false;
    const seen = this.#seen;
    for (let i = 0; i < seen.length; i++) if (seen[i] === v) return true;
    if (!this.#pattern.test(v)) return false;
    if (seen.length < this.#size) seen.push(v);
    else {
      seen[this.#next] = v;
      this.#next = (this.#next + 1) % this.#size;
    }
    return true;
  }
}
export const NODE_IDS = new RecentMatches(NODE_ID_PATTERN);
const ROOTS = new RecentMatches(SHA256_HEX_PATTERN);
const CONTENT_IDS = new RecentMatches(SHA256_HEX_PATTERN);
const SIGNATURES = new RecentMatches(SIGNATURE_PATTERN);

const fields = (...names: string[]): Fields =>
  Object.freeze(
    Object.assign(Object.create(null) as Record<string, true>, ...names.map((n) => ({ [n]: true }))),
  );

const RECEIPT_BODY = fields(
  'nodeId',
  'requestId',
  'modelName',
  'modelVersion',
  'modelContentId',
  'inputDigest',
  'outputDigest',
  'issuedAtMs',
  'serviceTimeMs',
);
const ROOT_BODY = fields('nodeId', 'root', 'leafCount', 'issuedAtMs');
const SIGNED_ROOT = fields('body', 'signature');
const PROOF = fields('index', 'proof', 'root');
const BATCH_SIGNED = fields('v', 'body', 'batch');
const SINGLE_SIGNED = fields('body', 'signature');

/** receiptBodySchema's rules: every key required. */
export function isFastReceiptBody(b: unknown): boolean {
  return (
    isPlainWith(b, RECEIPT_BODY) &&
    NODE_IDS.test(b.nodeId) &&
    isStringWithin(b.requestId, 0, 256) &&
    typeof b.modelName === 'string' &&
    typeof b.modelVersion === 'string' &&
    CONTENT_IDS.test(b.modelContentId) &&
    isMatch(b.inputDigest, SHA256_HEX_PATTERN) &&
    isMatch(b.outputDigest, SHA256_HEX_PATTERN) &&
    isNonNegativeInt(b.issuedAtMs) &&
    typeof b.serviceTimeMs === 'number' &&
    Number.isFinite(b.serviceTimeMs) &&
    b.serviceTimeMs >= 0
  );
}

/** batchProofSchema's rules (index, parsed proof entries, the signed root's body and signature). */
export function isFastBatchProof(p: unknown): boolean {
  if (!isPlainWith(p, PROOF) || !isNonNegativeInt(p.index, MAX_BATCH_LEAVES)) return false;
  const { proof, root } = p;
  if (!Array.isArray(proof) || proof.length > FAST_MAX_PARSED_PROOF_HASHES) return false;
  for (let i = 0; i < proof.length; i++) if (!isStringWithin(proof[i], 0, 64)) return false;
  if (!isPlainWith(root, SIGNED_ROOT) || !SIGNATURES.test(root.signature)) return false;
  const body = root.body;
  return (
    isPlainWith(body, ROOT_BODY) &&
    NODE_IDS.test(body.nodeId) &&
    ROOTS.test(body.root) &&
    typeof body.leafCount === 'number' &&
    isNonNegativeInt(body.leafCount, MAX_BATCH_LEAVES) &&
    body.leafCount >= 1 &&
    isNonNegativeInt(body.issuedAtMs)
  );
}

/**
 * A v2 message (`{ v: 2, body, batch }`) or a v1 one (`{ body, signature }`, no `v` key at all)
 * whose body passes `isBody`: the two branches of the receipt and report discriminated unions.
 */
export function isFastSigned(value: unknown, isBody: (body: unknown) => boolean): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if ((value as { v?: unknown }).v === BATCH_SIGNED_VERSION)
    return isPlainWith(value, BATCH_SIGNED) && isBody(value.body) && isFastBatchProof(value.batch);
  return (
    isPlainWith(value, SINGLE_SIGNED) && isMatch(value.signature, SIGNATURE_PATTERN) && isBody(value.body)
  );
}

/** signedReceiptSchema's rules, both versions. */
export const isFastSignedReceipt = (value: unknown): boolean => isFastSigned(value, isFastReceiptBody);

export { fields as fastFields };
