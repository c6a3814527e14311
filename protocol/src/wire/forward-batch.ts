import { trimOldest } from '../oldest-first.ts';
import { sha256Hex, type Sha256Hex } from '../encoding.ts';
import type { NodeKeyPair } from '../identity.ts';
import { isValidSignatureFrom, signBodyAs, signingInput } from '../signing.ts';

/**
 * Batch-signed forwards: a gateway under load signs one Merkle root per batch of forwarded requests
 * (those that reach its signer in one turn of its event loop) instead of one Ed25519 signature each;
 * every request carries the root's signature and its leaf's path to the root (`x-hexedge-forward-proof`).
 * A leaf is exactly what a single forward signature covers (forwarder, target node, route, model name
 * and version, body digest, issuedAtMs: forward-signature.ts), so a node's check is unchanged in what
 * it binds; it verifies the root's signature once and remembers verified roots (`ForwardRootCache`), so
 * the requests of one batch cost it one verification too. A batch of one is a plain forward signature.
 *
 * Hashing: leaf = SHA-256(0x00 ‖ signingInput('forward', body)); inner = SHA-256("node:" ‖ left ‖
 * right) over the lowercase hex of the children (different first bytes keep leaves and inner nodes
 * apart); a node without a sibling on its level is carried up unchanged. The root is signed as kind
 * 'forward-batch' over `{ nodeId: forwarder, root, issuedAtMs }`.
 */
export const FORWARD_PROOF_HEADER = 'x-hexedge-forward-proof';
/** Requests per signed root at most: a proof then holds at most 12 siblings (~800 bytes of header). */
export const MAX_FORWARD_BATCH = 4096;
const MAX_PROOF_STEPS = 12;
const PROOF_STEP = /^[LR][0-9a-f]{64}$/;

const encoder = new TextEncoder();

/** The leaf of one forwarded request's signed body (what forward-signature.ts signs alone). */
export async function forwardLeaf(body: unknown, sha256: Sha256Hex = sha256Hex): Promise<string> {
  const input = signingInput('forward', body);
  const bytes = new Uint8Array(input.length + 1);
  bytes.set(input, 1);
  return sha256(bytes);
}

const inner = (left: string, right: string, sha256: Sha256Hex) =>
  sha256(encoder.encode(`node:${left}${right}`));

/**
 * The root over `leaves` and each leaf's proof: the siblings from the leaf up, each `L<hex>` (the
 * sibling is on the left) or `R<hex>`, joined by '.'.
 */
export async function forwardTree(
  leaves: readonly string[],
  sha256: Sha256Hex = sha256Hex,
): Promise<{ root: string; proofs: string[] }> {
  if (leaves.length === 0 || leaves.length > MAX_FORWARD_BATCH)
    throw new RangeError(`a forward batch holds 1 to ${MAX_FORWARD_BATCH} requests, not ${leaves.length}`);
  const proofs: string[][] = leaves.map(() => []);
  // Which leaves sit under each node of the current level.
  let level = leaves.map((hash, i) => ({ hash, under: [i] }));
  while (level.length > 1) {
    const next: typeof level = [];
    for (let i = 0; i < level.length; i += 2) {
      const left = level[i]!;
      const right = level[i + 1];
      if (!right) {
        next.push(left);
        continue;
      }
      for (const leaf of left.under) proofs[leaf]!.push(`R${right.hash}`);
      for (const leaf of right.under) proofs[leaf]!.push(`L${left.hash}`);
      const hash = inner(left.hash, right.hash, sha256);
      next.push({
        hash: typeof hash === 'string' ? hash : await hash,
        under: [...left.under, ...right.under],
      });
    }
    level = next;
  }
  return { root: level[0]!.hash, proofs: proofs.map((p) => p.join('.')) };
}

/** The root a leaf's proof leads to, or undefined when the proof is not well-formed. */
export async function forwardRootOf(
  leaf: string,
  proof: string,
  sha256: Sha256Hex = sha256Hex,
): Promise<string | undefined> {
  const steps = proof === '' ? [] : proof.split('.');
  if (steps.length > MAX_PROOF_STEPS || !steps.every((s) => PROOF_STEP.test(s))) return undefined;
  let at = leaf;
  for (const step of steps) {
    const sibling = step.slice(1);
    const hash = step[0] === 'L' ? inner(sibling, at, sha256) : inner(at, sibling, sha256);
    at = typeof hash === 'string' ? hash : await hash;
  }
  return at;
}

/** Signs a batch's root (kind 'forward-batch'); base64url signature. */
export function signForwardRoot(options: {
  keys: NodeKeyPair;
  root: string;
  issuedAtMs: number;
}): Promise<string> {
  return signBodyAs(
    'forward-batch',
    { nodeId: options.keys.nodeId, root: options.root, issuedAtMs: options.issuedAtMs },
    options.keys.privateKey,
  );
}

/**
 * Roots a node has verified, so the other requests of a batch need no signature check: keyed by
 * forwarder, issuedAtMs, root and signature, bounded (oldest forgotten first). Only a verified root
 * enters it, and a request passes through it only with a proof that leads its own leaf to that root.
 */
export class ForwardRootCache {
  readonly #verified = new Map<string, true>();
  readonly #max: number;
  constructor(options: { maxEntries?: number } = {}) {
    this.#max = options.maxEntries ?? 10_000;
  }
  has(key: string): boolean {
    return this.#verified.has(key);
  }
  add(key: string): void {
    this.#verified.set(key, true);
    trimOldest(this.#verified, this.#max);
  }
}

/** Whether a batched forward holds: its leaf's proof leads to a root the forwarder signed. */
export async function isValidBatchedForward(options: {
  body: { nodeId: string; issuedAtMs: number };
  proof: string;
  signature: string;
  sha256?: Sha256Hex;
  roots?: ForwardRootCache;
}): Promise<boolean> {
  const sha256 = options.sha256 ?? sha256Hex;
  const root = await forwardRootOf(await forwardLeaf(options.body, sha256), options.proof, sha256);
  if (root === undefined) return false;
  const { nodeId, issuedAtMs } = options.body;
  const key = `${nodeId}\u0000${issuedAtMs}\u0000${root}\u0000${options.signature}`;
  if (options.roots?.has(key)) return true;
  const ok = await isValidSignatureFrom({
    kind: 'forward-batch',
    body: { nodeId, root, issuedAtMs },
    signature: options.signature,
    signerId: nodeId,
  });
  if (ok) options.roots?.add(key);
  return ok;
}
