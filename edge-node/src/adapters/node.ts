// Node-only parts of the edge node: the onnxruntime-node backend and the file-system model store.
export * from '../backends/ort-node.ts';
export * from '../store/model-dir.ts';
export * from '../store/write-model.ts';
