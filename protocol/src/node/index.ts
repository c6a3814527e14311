// Node-only helpers shared by the deployables' builders: Ed25519 key files on disk.
export { createKeyFile, loadOrCreateKeyFile, readKeyFile, type KeyFileExtras } from './key-file.ts';
// The model directory layout (an origin registry's and a node's store): manifests and hash-checked artifacts.
export {
  artifactPathFor,
  readModelDir,
  readVerifiedArtifact,
  type ModelDirProblem,
  type VerifiedArtifact,
} from './model-dir.ts';
export { modelFileStem, writeModel } from './write-model.ts';
export { listenHttp, readDeclaredBody, type HttpListener } from './listen-http.ts';
// Ed25519 through node:crypto for every signature and verification of the process (same bytes, same verdicts).
export {
  describeEd25519Engine,
  ed25519PublicKeyOf,
  nodeEd25519,
  nodeEd25519OnPool,
  useNodeEd25519,
} from './ed25519.ts';
export { sodiumEd25519, sodiumMissing } from './ed25519-sodium.ts';
export { nodeForwardMac, useNodeForwardMac } from './forward-mac-node.ts';
// SHA-256 through node:crypto (one-shot, synchronous) for the services' hot paths.
export { nodeSha256Hex } from './sha256.ts';
