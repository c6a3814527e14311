// Runtime-neutral parts of the edge node: manifests, the OIP app, receipts, the gateway agent.
export * from './models/manifest.ts';
export * from './models/comfort-index.ts';
export * from './toolchain/onnx-graph.ts';
export * from './backends/backend.ts';
export * from './server/model-set.ts';
export * from './server/scheduler.ts';
export * from './server/batch-tensors.ts';
export * from './server/binary-extension.ts';
export * from './server/metrics.ts';
export * from './pipelines/index.ts';
export * from './server/oip-app.ts';
export * from './server/input-check.ts';
export * from './server/receipt.ts';
export * from './agent/gateway-agent.ts';
export * from './server/artifact-routes.ts';
export * from './server/challenge-route.ts';
export * from './store/model-ref.ts';
