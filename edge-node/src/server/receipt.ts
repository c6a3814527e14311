import type { NodeKeyPair, SignedReceipt } from '@hexedge/protocol';
import type { ModelManifest } from '../models/manifest.ts';
import type { ReceiptCrypto } from './receipt-crypto.ts';

/**
 * The receipt binds this node's key to one answer: which model bytes ran (content id), on which input,
 * giving which output. The gateway recomputes both digests from what it sent and received (tensor
 * digests for raw requests, JSON digests for pipeline requests), so a node cannot sign one thing and
 * return another.
 */
export function signReceipt(options: {
  crypto: ReceiptCrypto;
  keys: NodeKeyPair;
  requestId: string;
  manifest: ModelManifest;
  inputDigest: string;
  outputDigest: string;
  serviceTimeMs: number;
  nowMs: number;
}): SignedReceipt | Promise<SignedReceipt> {
  const { keys, manifest } = options;
  return options.crypto.sign(
    'receipt',
    {
      nodeId: keys.nodeId,
      requestId: options.requestId,
      modelName: manifest.name,
      modelVersion: manifest.version,
      modelContentId: manifest.contentId,
      inputDigest: options.inputDigest,
      outputDigest: options.outputDigest,
      issuedAtMs: options.nowMs,
      serviceTimeMs: options.serviceTimeMs,
    },
    keys,
  );
}
