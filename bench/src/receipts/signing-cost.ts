import { BatchReceiptSigner } from '@hexedge/edge-node';
import { nodeReceiptCrypto } from '@hexedge/edge-node/node';
import type { NodeKeyPair, ReceiptBody } from '@hexedge/protocol';

function bodyOf(keys: NodeKeyPair, i: number): ReceiptBody {
  return {
    nodeId: keys.nodeId,
    requestId: `req-${i}`,
    modelName: 'comfort-index',
    modelVersion: '1',
    modelContentId: 'c'.repeat(64),
    inputDigest: 'a'.repeat(64),
    outputDigest: 'b'.repeat(64),
    issuedAtMs: Date.now(),
    serviceTimeMs: 0.05,
  };
}

/** µs of node CPU per answer to sign its receipt alone (v1): libsodium (node:crypto without it), as `buildEdgeNode` signs. */
export function singleSigningUs(keys: NodeKeyPair, answers: number): number {
  const t = performance.now();
  for (let i = 0; i < answers; i++) nodeReceiptCrypto.sign('receipt', bodyOf(keys, i), keys);
  return ((performance.now() - t) * 1000) / answers;
}

/**
 * µs per answer through the node's BatchReceiptSigner when `perTurn` answers finish in the same
 * event-loop turn (one dynamic batch of the scheduler): leaf hashes, the tree, one signature per root.
 */
export async function batchSigningUs(keys: NodeKeyPair, answers: number, perTurn: number): Promise<number> {
  const signer = new BatchReceiptSigner({
    crypto: nodeReceiptCrypto,
    keys,
    maxBatchLeaves: Math.max(perTurn, 1),
  });
  const t = performance.now();
  for (let i = 0; i < answers; i += perTurn)
    await Promise.all(
      Array.from({ length: Math.min(perTurn, answers - i) }, (_, k) => signer.sign(bodyOf(keys, i + k))),
    );
  const us = ((performance.now() - t) * 1000) / answers;
  if (signer.stats.receipts !== answers) throw new Error(`signed ${signer.stats.receipts}/${answers}`);
  return us;
}
