import { sha256Hex, type Sha256Hex } from '../encoding.ts';
import { signingInput } from '../signing.ts';
import type { ForwardTarget } from './forward-signature.ts';

const encoder = new TextEncoder();
const toBytes = (body: string | Uint8Array) => (typeof body === 'string' ? encoder.encode(body) : body);

/** The body a forward signature, a batch leaf and a forward MAC cover (`forwardBodyNow`'s). */
export type ForwardBody = ReturnType<typeof bodyOf>;

const bodyOf = (
  options: ForwardTarget & { forwarderId: string; issuedAtMs: number },
  bodyDigest: string,
) => ({
  nodeId: options.forwarderId,
  targetNodeId: options.targetNodeId,
  route: options.route,
  modelName: options.modelName,
  modelVersion: options.modelVersion,
  bodyDigest,
  issuedAtMs: options.issuedAtMs,
});

/**
 * What a forward signature (forward-signature.ts), a batch leaf (forward-batch.ts) and a forward MAC
 * (forward-mac.ts) cover alike: `signingInput('forward', forwardBody(...))`.
 */
export async function forwardBody(
  options: ForwardTarget & {
    forwarderId: string;
    body: string | Uint8Array;
    issuedAtMs: number;
    sha256?: Sha256Hex;
  },
): Promise<ForwardBody> {
  return forwardBodyNow(options);
}

/** `forwardBody` without a promise when the digest needs none (a synchronous `sha256`, node:crypto's). */
export function forwardBodyNow(
  options: ForwardTarget & {
    forwarderId: string;
    body: string | Uint8Array;
    issuedAtMs: number;
    sha256?: Sha256Hex;
  },
): ForwardBody | Promise<ForwardBody> {
  const digest = options.sha256 ?? sha256Hex;
  const d = digest(toBytes(options.body));
  return typeof d === 'string' ? bodyOf(options, d) : d.then((hex) => bodyOf(options, hex));
}

/**
 * `signingInput('forward', body)` for a body `forwardBodyNow` made (its seven fields, nothing else):
 * the canonical JSON written in its sorted key order at once, the bytes canonicalJson gives, without
 * listing and sorting its keys for every forward. A field of another type than `bodyOf` puts there
 * (a caller's cast) goes through signingInput itself, which gives the bytes or the error.
 */
export function forwardSigningInput(body: ForwardBody): Uint8Array {
  const { bodyDigest, issuedAtMs, modelName, modelVersion, nodeId, route, targetNodeId } = body;
  if (
    typeof bodyDigest !== 'string' ||
    typeof issuedAtMs !== 'number' ||
    !Number.isFinite(issuedAtMs) ||
    typeof modelName !== 'string' ||
    typeof modelVersion !== 'string' ||
    typeof nodeId !== 'string' ||
    typeof route !== 'string' ||
    typeof targetNodeId !== 'string'
  )
    return signingInput('forward', body);
  return encoder.encode(
    `hexedge/v1/forward\n{"bodyDigest":${JSON.stringify(bodyDigest)},"issuedAtMs":${'' + issuedAtMs},"modelName":${JSON.stringify(modelName)},"modelVersion":${JSON.stringify(modelVersion)},"nodeId":${JSON.stringify(nodeId)},"route":${JSON.stringify(route)},"targetNodeId":${JSON.stringify(targetNodeId)}}`,
  );
}
