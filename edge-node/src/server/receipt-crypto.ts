import {
  sha256Hex,
  signBody,
  tensorsDigest,
  type NodeKeyPair,
  type Sha256Hex,
  type Signed,
  type SignedKind,
  type Tensor,
} from '@hexedge/protocol';

/**
 * How the node hashes tensors and signs receipts. WebCrypto (the default, runtime-neutral) answers
 * through promises; the Node builder passes node:crypto's synchronous versions (node/node-crypto.ts),
 * which skip a thread-pool hop per call on the hot path. Both give the same bytes.
 */
export interface ReceiptCrypto {
  tensorsDigest(tensors: readonly Tensor[]): string | Promise<string>;
  sign<T extends { nodeId: string }>(
    kind: SignedKind,
    body: T,
    keys: NodeKeyPair,
  ): Signed<T> | Promise<Signed<T>>;
  /** SHA-256 to hex, for batch receipts' Merkle trees. */
  sha256Hex: Sha256Hex;
}

export const webReceiptCrypto: ReceiptCrypto = {
  tensorsDigest: (tensors) => tensorsDigest(tensors),
  sign: (kind, body, keys) => signBody(kind, body, keys.privateKey),
  sha256Hex,
};
