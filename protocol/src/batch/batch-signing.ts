import { sha256Hex, type Sha256Hex } from '../encoding.ts';
import { NODE_ID_PATTERN, type NodeKeyPair } from '../identity.ts';
import { canonicalUtf8View } from '../canonical-utf8.ts';
import { isValidSignatureNow, signBody, type Signed, type SignedKind } from '../signing.ts';
import { buildMerkleTree, inclusionProofRootOf, MAX_BATCH_LEAVES, type InclusionResult } from './merkle.ts';
import { VerifiedRoots } from './verified-roots.ts';

/**
 * Batch signing: one Ed25519 signature over the Merkle root of many messages instead of one per
 * message. Each message keeps its exact body (the bytes a single signature would cover are its leaf:
 * `hexedge/v1/<kind>\n` + canonical JSON) and carries its inclusion proof and the signed root, so it
 * stays verifiable alone, offline, from its own bytes. The root is signed as its own kind
 * (`receipt-root`, `report-root`), so a root signature is never valid as a message signature.
 */
export type BatchKind = 'receipt' | 'report';
export const ROOT_KIND = { receipt: 'receipt-root', report: 'report-root' } as const satisfies Record<
  BatchKind,
  SignedKind
>;
/** The wire version of a batch-signed message; a message without `v` is version 1 (its own signature). */
export const BATCH_SIGNED_VERSION = 2;

export interface BatchRootBody {
  nodeId: string;
  /** The RFC 6962 root over the batch's leaves, hex. */
  root: string;
  leafCount: number;
  /** When the signer closed the batch (its clock). */
  issuedAtMs: number;
}
export interface BatchProof {
  /** The message's leaf index in the batch. */
  index: number;
  /** Sibling hashes (hex), leaf to root. */
  proof: string[];
  root: Signed<BatchRootBody>;
}
export interface BatchSigned<T> {
  v: typeof BATCH_SIGNED_VERSION;
  body: T;
  batch: BatchProof;
}

/** How a signer signs (a runtime with a faster signer passes its own; WebCrypto's by default). */
export type BodySigner = <T extends { nodeId: string }>(
  kind: SignedKind,
  body: T,
  keys: NodeKeyPair,
) => Signed<T> | Promise<Signed<T>>;
const webSigner: BodySigner = (kind, body, keys) => signBody(kind, body, keys.privateKey);

/** The leaf hash of one message: SHA-256(0x00 ‖ the bytes its single signature would cover). */
export function batchLeafHash(kind: BatchKind, body: unknown, sha256: Sha256Hex = sha256Hex) {
  // 0x00 is U+0000 in UTF-8: prefix, tag and canonical JSON written as UTF-8 at once, as
  // `merkleLeafHash(signingInput(…))` hashes them, into a shared buffer (no text built, no copy of it).
  const bytes = canonicalUtf8View(LEAF_PREFIX_TEXT[kind], body);
  // node:crypto's one-shot hash (the one with `utf8`) reads the buffer before returning; any other
  // hash (WebCrypto's, a caller's) gets a copy, since it may read its input after the next leaf is written.
  return sha256(sha256.utf8 ? bytes : bytes.slice());
}
const LEAF_PREFIX_TEXT = {
  receipt: '\u0000hexedge/v1/receipt\n',
  report: '\u0000hexedge/v1/report\n',
} as const;

/** Signs `bodies` (all the signer's own, 1 to MAX_BATCH_LEAVES) with one root; the answers keep their order. */
export async function signBatch<T extends { nodeId: string }>(options: {
  kind: BatchKind;
  bodies: readonly T[];
  keys: NodeKeyPair;
  nowMs: number;
  sha256?: Sha256Hex;
  sign?: BodySigner;
}): Promise<BatchSigned<T>[]> {
  const { kind, bodies, keys } = options;
  const sha256 = options.sha256 ?? sha256Hex;
  if (bodies.length === 0 || bodies.length > MAX_BATCH_LEAVES)
    throw new RangeError(`a batch holds 1 to ${MAX_BATCH_LEAVES} messages, got ${bodies.length}`);
  const stranger = bodies.find((b) => b.nodeId !== keys.nodeId);
  if (stranger) throw new RangeError(`a batch signed by ${keys.nodeId} holds a body of ${stranger.nodeId}`);
  const leaves = bodies.map((b) => batchLeafHash(kind, b, sha256));
  const leafHashes = leaves.some((l) => typeof l !== 'string')
    ? await Promise.all(leaves)
    : (leaves as string[]);
  const { root, proofs } = await buildMerkleTree(leafHashes, sha256);
  const rootBody: BatchRootBody = {
    nodeId: keys.nodeId,
    root,
    leafCount: bodies.length,
    issuedAtMs: options.nowMs,
  };
  const signed = (options.sign ?? webSigner)(ROOT_KIND[kind], rootBody, keys);
  const signedRoot = signed instanceof Promise ? await signed : signed;
  return bodies.map((body, index) => ({
    v: BATCH_SIGNED_VERSION,
    body,
    batch: { index, proof: proofs[index]!, root: signedRoot },
  }));
}

/**
 * Why a batch-signed message was refused: the root names another signer than the message; the index
 * is outside the tree; the proof is not exactly as long as the tree is deep for that index (an
 * oversized proof); a proof entry is not a hex hash; the proof leads to another root; or the root's
 * signature does not verify for the signer.
 */
export const BATCH_FAULTS = [
  'MALFORMED',
  'ROOT_SIGNER_MISMATCH',
  'INDEX_OUT_OF_RANGE',
  'PROOF_LENGTH',
  'PROOF_MALFORMED',
  'PROOF_MISMATCH',
  'ROOT_SIGNATURE',
] as const;
export type BatchFault = (typeof BATCH_FAULTS)[number];
export type BatchVerdict =
  { ok: true; cachedRoot: boolean } | { ok: false; fault: BatchFault | 'SIGNATURE'; message: string };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

export interface BatchVerifyOptions {
  roots?: VerifiedRoots;
  sha256?: Sha256Hex;
}

/**
 * Checks one batch-signed message: leaf → proof → root, then the root's signature, which is looked up
 * in `roots` first (verified once per root) and added there once it verifies. A verdict, never a throw.
 */
export async function verifyBatchSigned(
  kind: BatchKind,
  item: BatchSigned<{ nodeId: string }>,
  options: BatchVerifyOptions = {},
): Promise<BatchVerdict> {
  // A verdict of its own for each caller (leaves joining one root's verification share theirs in Now).
  return { ...(await verifyBatchSignedNow(kind, item, options)) };
}

/**
 * `verifyBatchSigned`, answered synchronously whenever it can be: `sha256` synchronous (node:crypto's)
 * and the root already verified in `roots` (most leaves of a batch). A promise only for a root's
 * signature check (or a verification of it under way, which it joins) or an asynchronous hash, so a
 * verifier taking thousands of leaves a second pays no promise per leaf. Same checks, same verdicts.
 */
export function verifyBatchSignedNow(
  kind: BatchKind,
  item: BatchSigned<{ nodeId: string }>,
  options: BatchVerifyOptions = {},
  /** `batchLeafHash(kind, item.body)` when the caller made it already (from the same body's bytes). */
  leafHash?: string,
): BatchVerdict | Promise<BatchVerdict> {
  const { body, batch } = item ?? {};
  const root = isObject(batch) && isObject(batch.root) ? batch.root : undefined;
  const rootBody = root && isObject(root.body) ? root.body : undefined;
  if (
    !isObject(body) ||
    typeof body.nodeId !== 'string' ||
    !NODE_ID_PATTERN.test(body.nodeId) ||
    !rootBody ||
    typeof rootBody.nodeId !== 'string' ||
    typeof rootBody.root !== 'string' ||
    typeof root!.signature !== 'string' ||
    !Array.isArray(batch.proof)
  )
    return refuse('MALFORMED', `batch-signed ${kind} lacks its body, proof or signed root`);
  if (rootBody.nodeId !== body.nodeId)
    return refuse(
      'ROOT_SIGNER_MISMATCH',
      `${kind} of ${body.nodeId} comes with a root signed as ${rootBody.nodeId}`,
    );
  const sha256 = options.sha256 ?? sha256Hex;
  const checked: Checked = { kind, nodeId: body.nodeId, batch, root: root!, rootBody, options };
  const leaf = leafHash ?? batchLeafHash(kind, body, sha256);
  return typeof leaf === 'string' ? fromLeaf(checked, leaf) : fromLeafLater(checked, leaf);
}

// The promise continuations live in functions of their own: a closure in the hot functions would make
// V8 allocate their context on every call, the synchronous ones included.
const fromLeafLater = (c: Checked, leaf: Promise<string>) => leaf.then((l) => fromLeaf(c, l));
const fromRootLater = (c: Checked, walked: Promise<InclusionResult>) => walked.then((w) => fromRoot(c, w));

const refuse = (fault: BatchFault, message: string): BatchVerdict => ({ ok: false, fault, message });
/** The verdict of a leaf whose root was verified before: one frozen object for all of them (no allocation per leaf). */
const CACHED_ROOT: BatchVerdict = Object.freeze({ ok: true, cachedRoot: true });

/** What verifyBatchSignedNow has checked so far (shape and signer). */
interface Checked {
  kind: BatchKind;
  nodeId: string;
  batch: BatchProof;
  root: Record<string, unknown>;
  rootBody: Record<string, unknown> & { nodeId: string; root: string };
  options: BatchVerifyOptions;
}

function fromLeaf(c: Checked, leafHash: string): BatchVerdict | Promise<BatchVerdict> {
  const walked = inclusionProofRootOf(
    leafHash,
    c.batch.index,
    c.rootBody.leafCount as number,
    c.batch.proof,
    c.options.sha256 ?? sha256Hex,
    c.options.roots?.innerNodes,
    c.rootBody.root,
  );
  return walked instanceof Promise ? fromRootLater(c, walked) : fromRoot(c, walked);
}

function fromRoot(c: Checked, computed: InclusionResult): BatchVerdict | Promise<BatchVerdict> {
  const { kind, nodeId, batch, root, rootBody } = c;
  if ('fault' in computed) {
    const detail = {
      INDEX_OUT_OF_RANGE: `leaf index ${batch.index} is outside a batch of ${rootBody.leafCount}`,
      PROOF_LENGTH: `proof of ${batch.proof.length} hashes does not fit leaf ${batch.index} of a batch of ${rootBody.leafCount}`,
      PROOF_MALFORMED: 'proof holds an entry that is not a hex SHA-256',
    }[computed.fault];
    return refuse(computed.fault, `${kind} of ${nodeId}: ${detail}`);
  }
  if (computed.root !== rootBody.root)
    return refuse(
      'PROOF_MISMATCH',
      `${kind} of ${nodeId}: its inclusion proof leads to ${computed.root.slice(0, 16)}…, not to the signed root ${rootBody.root.slice(0, 16)}…`,
    );
  // A root verified before is answered without a promise (most leaves); otherwise verify, or join a verification under way.
  if (c.options.roots?.hasRoot(kind, rootBody, root.signature as string)) return CACHED_ROOT;
  return verifyRoot(c);
}

/** A root not verified before: verify it, or join its verification under way. */
function verifyRoot(c: Checked): BatchVerdict | Promise<BatchVerdict> {
  const { kind, root, rootBody } = c;
  const { roots } = c.options;
  const key = VerifiedRoots.keyOf(kind, rootBody.nodeId, rootBody.root);
  const signed = VerifiedRoots.signedOf(rootBody.leafCount, rootBody.issuedAtMs, root.signature as string);
  const verdictOf = (ok: boolean, cached: boolean): BatchVerdict =>
    ok
      ? { ok: true, cachedRoot: cached }
      : refuse('ROOT_SIGNATURE', `${kind} root signature does not verify for ${rootBody.nodeId}`);
  // Joining a verification under way: every leaf of that root shares one verdict promise (the key names
  // kind and signer, so the verdict is the same for all), rather than a promise chain each.
  const running = roots?.joinable(key, signed);
  if (running) {
    let joined = JOINED.get(running);
    if (!joined) JOINED.set(running, (joined = running.then((ok) => verdictOf(ok, true))));
    return joined;
  }
  // Synchronous with a synchronous engine: the root is verified (and cached) as its first leaf arrives.
  const verify = () => isValidSignatureNow(ROOT_KIND[kind], root as unknown as Signed<BatchRootBody>);
  if (!roots) {
    const ok = verify();
    return typeof ok === 'boolean' ? verdictOf(ok, false) : ok.then((v) => verdictOf(v, false));
  }
  const v = roots.verifyNow(key, signed, verify);
  return v instanceof Promise ? v.then((r) => verdictOf(r.ok, r.cached)) : verdictOf(v.ok, v.cached);
}

/** The shared verdict of each root verification under way that leaves joined (dropped with it). */
const JOINED = new WeakMap<Promise<boolean>, Promise<BatchVerdict>>();

/** Whether a message is batch-signed (version 2) rather than signed alone. */
export function isBatchSigned<T>(item: { body: T } | BatchSigned<T>): item is BatchSigned<T> {
  return (item as { v?: unknown }).v === BATCH_SIGNED_VERSION;
}

export { MAX_BATCH_LEAVES };
