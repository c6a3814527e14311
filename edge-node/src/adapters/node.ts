// Node-only parts of the edge node: the onnxruntime-node backend and the file-system model store.
export * from '../backends/ort-node.ts';
export {
  artifactPathFor,
  readModelDir,
  readVerifiedArtifact,
  writeModel,
  type ModelDirProblem,
  type VerifiedArtifact,
} from '@hexedge/protocol/node';
export * from '../backends/ort-web.ts';
export * from '../backends/select.ts';
export * from '../backends/load-models.ts';
export * from '../backends/warm-up.ts';
export * from '../models/build.ts';
export * from '../store/artifact-index.ts';
export * from '../store/pull-sources.ts';
export * from '../store/pull.ts';
export * from '../store/pull-progress.ts';
export { onnxAccuracy, predictLabels } from '../models/evaluate.ts';
export { DEFAULT_MODEL_SEED, generateHeldOut } from '../models/train.ts';
