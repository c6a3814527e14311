import { sha256Hex, type Sha256Hex } from '../encoding.ts';
import type { ForwardTarget } from './forward-signature.ts';

const encoder = new TextEncoder();
const toBytes = (body: string | Uint8Array) => (typeof body === 'string' ? encoder.encode(body) : body);

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
) {
  const digest = options.sha256 ?? sha256Hex;
  const d = digest(toBytes(options.body));
  return {
    nodeId: options.forwarderId,
    targetNodeId: options.targetNodeId,
    route: options.route,
    modelName: options.modelName,
    modelVersion: options.modelVersion,
    bodyDigest: typeof d === 'string' ? d : await d,
    issuedAtMs: options.issuedAtMs,
  };
}
