import type { Sha256Hex } from '../encoding.ts';
import type { NodeKeyPair } from '../identity.ts';
import { NODE_ID_PATTERN } from '../identity.ts';
import { isValidSignatureFrom, signBodyAs } from '../signing.ts';
import {
  FORWARD_PROOF_HEADER,
  forwardLeaf,
  forwardTree,
  isValidBatchedForward,
  MAX_FORWARD_BATCH,
  signForwardRoot,
  type ForwardRootCache,
} from './forward-batch.ts';
import { forwardBody, type ForwardBody } from './forward-body.ts';
import type { ForwardReplayGuard } from './forward-replay.ts';
import { FORWARD_MAC_HEADER, forwardMacFault, type ForwardMacKeys } from './forward-mac.ts';

/**
 * A gateway (or oracle) signs every inference request it forwards to an edge node, in three headers:
 * who forwards, when, and an Ed25519 signature (kind 'forward') over
 * `{ nodeId: forwarder, targetNodeId, route, modelName, modelVersion, bodyDigest, issuedAtMs }`.
 * The node serves `/infer` and `/predict` only when the forwarder is a gateway or oracle it knows,
 * the request is addressed to itself and the body is the one signed; so a relay that passes a request
 * (headers and all) to another operator's node is refused there: it was addressed to the relay.
 * Under load a gateway signs a batch's Merkle root instead (`signForwardBatch`, forward-batch.ts); to a
 * node that takes them it sends a forward MAC instead of either (forward-mac.ts), checked here too.
 */
export const FORWARDER_HEADER = 'x-hexedge-forwarder';
export const FORWARD_AT_HEADER = 'x-hexedge-forward-at';
export const FORWARD_SIGNATURE_HEADER = 'x-hexedge-forward-signature';
/** A forwarded request older (or further ahead) than this is refused: a gateway forwards within milliseconds. */
export const MAX_FORWARD_SKEW_MS = 60_000;

export type ForwardRoute = 'infer' | 'predict';

export interface ForwardTarget {
  targetNodeId: string;
  route: ForwardRoute;
  modelName: string;
  modelVersion: string;
}

/** The headers a forwarder adds to one request. */
export async function signForward(
  options: ForwardTarget & {
    keys: NodeKeyPair;
    body: string | Uint8Array;
    nowMs: number;
    sha256?: Sha256Hex;
  },
): Promise<Record<string, string>> {
  const body = await forwardBody({ ...options, forwarderId: options.keys.nodeId, issuedAtMs: options.nowMs });
  return {
    [FORWARDER_HEADER]: options.keys.nodeId,
    [FORWARD_AT_HEADER]: String(options.nowMs),
    [FORWARD_SIGNATURE_HEADER]: await signBodyAs('forward', body, options.keys.privateKey),
  };
}

/**
 * The headers for a batch of forwarded requests, in order, with one signature (forward-batch.ts): the
 * root of a Merkle tree over their signed bodies, each request with its proof. A batch of one gets a
 * plain forward signature (`signForward`), so a lone request costs nothing more.
 */
export async function signForwardBatch(options: {
  keys: NodeKeyPair;
  nowMs: number;
  sha256?: Sha256Hex;
  requests: readonly (ForwardTarget & { body: string | Uint8Array })[];
}): Promise<Record<string, string>[]> {
  const { keys, nowMs, requests } = options;
  const sha256 = options.sha256;
  if (requests.length === 1)
    return [await signForward({ keys, nowMs, ...requests[0]!, ...(sha256 ? { sha256 } : {}) })];
  if (requests.length > MAX_FORWARD_BATCH)
    throw new RangeError(
      `at most ${MAX_FORWARD_BATCH} forwarded requests per signature, not ${requests.length}`,
    );
  const leaves = await Promise.all(
    requests.map(async (r) =>
      forwardLeaf(
        await forwardBody({
          ...r,
          forwarderId: keys.nodeId,
          issuedAtMs: nowMs,
          ...(sha256 ? { sha256 } : {}),
        }),
        sha256,
      ),
    ),
  );
  const { root, proofs } = await forwardTree(leaves, sha256);
  const signature = await signForwardRoot({ keys, root, issuedAtMs: nowMs });
  return proofs.map((proof) => ({
    [FORWARDER_HEADER]: keys.nodeId,
    [FORWARD_AT_HEADER]: String(nowMs),
    [FORWARD_SIGNATURE_HEADER]: signature,
    [FORWARD_PROOF_HEADER]: proof,
  }));
}

export type ForwardCheck =
  | { ok: true; forwarderId: string }
  /** `replay`: a genuine forward refused by the replay guard (forward-replay.ts), and why. */
  | { ok: false; reason: string; replay?: 'replayed' | 'older-than-memory' };

/**
 * The node's check of a forwarded request: a known forwarder, fresh, addressed to this node, over this
 * body. `isKnown` may be asynchronous (a node that does not know a gateway yet asks its own gateway).
 */
export async function checkForward(
  options: ForwardTarget & {
    header: (name: string) => string | undefined;
    body: string | Uint8Array;
    isKnown: (forwarderId: string) => boolean | Promise<boolean>;
    nowMs: number;
    sha256?: Sha256Hex;
    /** Batch roots already verified (forward-batch.ts): a batch costs the node one signature check. */
    roots?: ForwardRootCache;
    /**
     * This node's forward-MAC keys (forward-mac.ts): given, a request may carry a MAC instead of a
     * signature (the MAC is then what is checked). Absent: MACs are not looked at, as on older nodes.
     */
    macs?: ForwardMacKeys;
    /** The forwards this node served within the window (forward-replay.ts): a replay of one is refused. */
    replays?: ForwardReplayGuard;
  },
): Promise<ForwardCheck> {
  const forwarderId = options.header(FORWARDER_HEADER);
  const atRaw = options.header(FORWARD_AT_HEADER);
  const mac = options.macs ? options.header(FORWARD_MAC_HEADER) || undefined : undefined;
  const signature = options.header(FORWARD_SIGNATURE_HEADER);
  if (!forwarderId || !atRaw || (!signature && mac === undefined))
    return { ok: false, reason: 'the request is not signed by a gateway or oracle' };
  if (!NODE_ID_PATTERN.test(forwarderId))
    return { ok: false, reason: `forwarder ${JSON.stringify(forwarderId.slice(0, 64))} is not a node id` };
  const issuedAtMs = Number(atRaw);
  if (!/^\d{1,16}$/.test(atRaw) || Math.abs(options.nowMs - issuedAtMs) > MAX_FORWARD_SKEW_MS)
    return {
      ok: false,
      reason: `forwarded at ${JSON.stringify(atRaw.slice(0, 20))}, not within ${MAX_FORWARD_SKEW_MS} ms of now`,
    };
  if (!(await options.isKnown(forwarderId)))
    return { ok: false, reason: `forwarder ${forwarderId} is not a gateway or oracle this node knows` };
  const body = await forwardBody({ ...options, forwarderId, issuedAtMs });
  if (mac !== undefined) {
    if (options.macs!.nodeId !== options.targetNodeId)
      throw new Error(
        `forward MAC keys of ${options.macs!.nodeId} given to check requests for ${options.targetNodeId}`,
      );
    const fault = await forwardMacFault({ macs: options.macs!, body, mac });
    return fault === undefined
      ? notReplayed(options.replays, body, options.nowMs)
      : { ok: false, reason: fault };
  }
  // (Unreachable: a request without a MAC was refused above without a signature.)
  if (!signature) return { ok: false, reason: 'the request is not signed by a gateway or oracle' };
  const proof = options.header(FORWARD_PROOF_HEADER);
  const valid =
    proof === undefined
      ? await isValidSignatureFrom({ kind: 'forward', body, signature, signerId: forwarderId })
      : await isValidBatchedForward({
          body,
          proof,
          signature,
          ...(options.sha256 ? { sha256: options.sha256 } : {}),
          ...(options.roots ? { roots: options.roots } : {}),
        });
  if (!valid)
    return {
      ok: false,
      reason: `the forward signature does not verify for ${forwarderId} (another node's request, or a changed body)`,
    };
  return notReplayed(options.replays, body, options.nowMs);
}

/** A verified forward, unless this node already served it (checked last: only a genuine request is remembered). */
function notReplayed(
  replays: ForwardReplayGuard | undefined,
  body: ForwardBody,
  nowMs: number,
): ForwardCheck {
  const verdict = replays?.admit({
    forwarderId: body.nodeId,
    issuedAtMs: body.issuedAtMs,
    route: body.route,
    modelName: body.modelName,
    modelVersion: body.modelVersion,
    bodyDigest: body.bodyDigest,
    nowMs,
  });
  if (!verdict || verdict.ok) return { ok: true, forwarderId: body.nodeId };
  return { ok: false, reason: verdict.reason, replay: verdict.refusal };
}
