// Node-only parts of the edge node: the deployable's builder, its model sync and key file, and the
// adapters they compose (onnxruntime-node/-web backends, the file-system model store, pulls).
export * from '../adapters/node.ts';
export { buildEdgeNode, type RunningNode } from './build-node.ts';
export { ModelSync, type ModelSyncOptions } from './model-sync.ts';
export { createNodeKey, loadNodeKey, NODE_KEY_FILE } from './node-keys.ts';
