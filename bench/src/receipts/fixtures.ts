import {
  bytesToBase64Url,
  generateNodeKeyPair,
  randomNonce,
  signBatch,
  signingInput,
  tensorsDigestInput,
  type NodeKeyPair,
  type ReceiptBody,
  type SignedKind,
  type Tensor,
} from '@hexedge/protocol';
import { createHash, KeyObject, sign } from 'node:crypto';

// Fixtures signed and hashed through node:crypto (the same bytes and signatures as WebCrypto, as the
// edge node's node-crypto.ts makes them, without a thread-pool hop each), so that making them stays a
// small part of a quick run.
const sha256Sync = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
const tensorsDigestSync = (tensors: readonly Tensor[]): string => sha256Sync(tensorsDigestInput(tensors));
const keyObjects = new WeakMap<CryptoKey, KeyObject>();
function signSync<T extends { nodeId: string }>(kind: SignedKind, body: T, keys: NodeKeyPair) {
  let key = keyObjects.get(keys.privateKey);
  if (!key) keyObjects.set(keys.privateKey, (key = KeyObject.from(keys.privateKey)));
  return { body, signature: bytesToBase64Url(new Uint8Array(sign(null, signingInput(kind, body), key))) };
}

/** What the fabric forwards to the oracle: receipt reports for small comfort-index answers. */
export interface ReceiptFixtures {
  gateway: NodeKeyPair;
  nodes: NodeKeyPair[];
  /** Each post as JSON text, as the oracle's HTTP route receives it. */
  posts: string[];
  /** Each receipt's v1 signature, its signed bytes' owner and body (the raw-verify anchor's input). */
  singles: Array<{ body: ReceiptBody; signature: string }>;
}

const tensor = (name: string, data: number[]): Tensor => ({
  name,
  datatype: 'FP32',
  shape: [1, data.length],
  data,
});

/**
 * `count` answers from `nodeCount` nodes, their receipts batch-signed `receiptLeaves` at a time per
 * node (v2) or each alone (`receiptLeaves: 0`, v1), forwarded by one gateway in posts of `postSize`
 * reports, batch-signed per post (v2) or each alone (`batchReports: false`).
 */
export async function receiptFixtures(options: {
  count: number;
  nodeCount: number;
  receiptLeaves: number;
  postSize: number;
  batchReports: boolean;
  nowMs: number;
}): Promise<ReceiptFixtures> {
  const { count, nowMs } = options;
  const gateway = await generateNodeKeyPair();
  const nodes = await Promise.all(Array.from({ length: options.nodeCount }, () => generateNodeKeyPair()));
  const answers = Array.from({ length: count }, (_, i) => {
    const node = nodes[i % nodes.length]!;
    const inputs = [tensor('readings', [20 + (i % 15), 40 + (i % 30), 400 + (i % 900)])];
    const outputs = [tensor('probabilities', [0.2, 0.7, 0.1, 0.05, 0.9, 0.05])];
    const body: ReceiptBody = {
      nodeId: node.nodeId,
      requestId: `req-${i}`,
      modelName: 'comfort-index',
      modelVersion: '1',
      modelContentId: 'c'.repeat(64),
      inputDigest: tensorsDigestSync(inputs),
      outputDigest: tensorsDigestSync(outputs),
      issuedAtMs: nowMs,
      serviceTimeMs: 0.05,
    };
    return { node, body, inputs, outputs };
  });
  const singles = answers.map((a) => signSync('receipt', a.body, a.node));
  // Each node's answers in roots of receiptLeaves, in arrival order.
  const receipts: unknown[] = new Array(count);
  if (options.receiptLeaves > 0) {
    for (const node of nodes) {
      const mine = answers.flatMap((a, i) => (a.node === node ? [i] : []));
      for (let at = 0; at < mine.length; at += options.receiptLeaves) {
        const slice = mine.slice(at, at + options.receiptLeaves);
        const signed = await signBatch({
          kind: 'receipt',
          bodies: slice.map((i) => answers[i]!.body),
          keys: node,
          nowMs,
          sha256: sha256Sync,
          sign: signSync,
        });
        slice.forEach((i, k) => (receipts[i] = signed[k]));
      }
    }
  } else singles.forEach((s, i) => (receipts[i] = s));
  const posts: string[] = [];
  for (let at = 0; at < count; at += options.postSize) {
    const bodies = answers.slice(at, at + options.postSize).map((a, k) => ({
      type: 'receipt' as const,
      nodeId: gateway.nodeId,
      nonce: randomNonce(),
      issuedAtMs: nowMs,
      receipt: receipts[at + k],
      request: { kind: 'tensors' as const, modelName: 'comfort-index', modelVersion: '1', inputs: a.inputs },
      result: { kind: 'tensors' as const, outputs: a.outputs },
    }));
    const reports = options.batchReports
      ? await signBatch({ kind: 'report', bodies, keys: gateway, nowMs, sha256: sha256Sync, sign: signSync })
      : bodies.map((b) => signSync('report', b, gateway));
    posts.push(JSON.stringify(reports));
  }
  return { gateway, nodes, posts, singles };
}
