// SHA-256 through node:crypto for the gateway's hot paths (API keys, receipt digests, Merkle proofs).
export { nodeSha256Hex } from '@hexedge/protocol/node';
