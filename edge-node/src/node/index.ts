// Node-only parts of the edge node: the deployable's builder, its model sync and key file, and the
// adapters they compose (onnxruntime-node/-web backends, the file-system model store, pulls).
// Node-only parts of the edge node: the onnxruntime-node backend and the file-system model store.
export { OrtNodeBackend } from './ort-node.ts';
export {
  artifactPathFor,
  readModelDir,
  readVerifiedArtifact,
  writeModel,
  type ModelDirProblem,
  type VerifiedArtifact,
} from '@hexedge/protocol/node';
export { OrtWebBackend } from '../backends/ort-web.ts';
export { loadModels } from '../backends/load-models.ts';
export {
  buildModelArtifacts,
  buildProjectModels,
  type ModelArtifact,
  PROJECT_MODELS,
} from '../models/build.ts';
export { describeFetchError, type PullSource } from '../store/pull-sources.ts';
export { pullModel } from './pull.ts';
export { createPullProgress, formatBytes } from './pull-progress.ts';
export { onnxAccuracy, predictLabels } from '../models/evaluate.ts';
export { DEFAULT_MODEL_SEED, generateHeldOut } from '../models/train.ts';
export { buildEdgeNode, type RunningNode } from './build-node.ts';
export { ModelSync, type ModelSyncOptions } from './model-sync.ts';
export { createNodeKey, loadNodeKey, NODE_KEY_FILE } from './node-keys.ts';
export { nodeReceiptCrypto } from './node-crypto.ts';
export { listenOip, oipRequestListener } from './oip-listener.ts';
export { ppocrRecModel, sileroVadModel, thirdPartyModels, type ThirdPartyModel } from './third-party.ts';
export { createReferee, type RefereeRequest, type RefereeResult } from './referee.ts';
