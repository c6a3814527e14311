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
export { listenHttp, type HttpListener } from './listen-http.ts';
