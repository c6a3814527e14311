import type { NodeKeyPair, ReceiptBody, SignedReceipt } from '@hexedge/protocol';
import type { ModelManifest } from '../models/manifest.ts';
import type { ReceiptSigner } from './receipt-signer.ts';

/**
 * The receipt binds this node's key to one answer: which model bytes ran (content id), on which input,
 * giving which output. The gateway recomputes both digests from what it sent and received (tensor
 * digests for raw requests, JSON digests for pipeline requests), so a node cannot sign one thing and
 * return another. The signer decides the wire version: signed alone (v1) or as a leaf of a batch (v2).
 */
export function signReceipt(options: {
  signer: ReceiptSigner;
  keys: NodeKeyPair;
  requestId: string;
  manifest: ModelManifest;
  inputDigest: string;
  outputDigest: string;
  serviceTimeMs: number;
  nowMs: number;
}): SignedReceipt | Promise<SignedReceipt> {
  const { keys, manifest } = options;
  const body: ReceiptBody = {
    nodeId: keys.nodeId,
    requestId: options.requestId,
    modelName: manifest.name,
    modelVersion: manifest.version,
    modelContentId: manifest.contentId,
    inputDigest: options.inputDigest,
    outputDigest: options.outputDigest,
    issuedAtMs: options.nowMs,
    serviceTimeMs: options.serviceTimeMs,
  };
  return options.signer.sign(body);
}
