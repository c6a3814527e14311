// Node-only parts of the edge node: the onnxruntime-node backend and the file-system model store.
export * from '../backends/ort-node.ts';
export * from '../store/model-dir.ts';
export * from '../store/write-model.ts';
export * from '../backends/ort-web.ts';
export * from '../backends/select.ts';
export * from '../backends/load-models.ts';
export * from '../backends/warm-up.ts';
export * from '../models/build.ts';
