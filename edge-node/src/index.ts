// Runtime-neutral parts of the edge node: manifests, the OIP app, receipts, the gateway agent.
export {
  MANIFEST_FILE_SUFFIX,
  type ModelManifest,
  modelManifestSchema,
  type TensorSpec,
} from './models/manifest.ts';
export { buildComfortIndexModel, comfortIndexManifest } from './models/comfort-index.ts';
export { buildComfortIndexVariant, type ComfortIndexVariant } from './models/comfort-index-variants.ts';
export { decodeOnnxModel } from './toolchain/onnx-graph.ts';
export { type LoadedModel } from './backends/backend.ts';
export { ModelSet } from './server/model-set.ts';
export { parseBinaryBody } from './server/binary-extension.ts';
export { NodeMetrics } from './server/metrics.ts';
export { getPipeline, pngToRecTensor, rgbToRecData } from './pipelines/index.ts';
export { createOipApp, MAX_OIP_BODY_BYTES } from './server/oip-app.ts';
export { KnownCallers } from './server/known-callers.ts';
export {
  BatchReceiptSigner,
  createReceiptSigner,
  DEFAULT_RECEIPT_OPTIONS,
  type ReceiptOptions,
  type ReceiptSigner,
  singleReceiptSigner,
} from './server/receipt-signer.ts';
export { type ReceiptCrypto, webReceiptCrypto } from './server/receipt-crypto.ts';
export { checkInputs } from './server/input-check.ts';
export { GatewayAgent } from './agent/gateway-agent.ts';
export { MAX_CHALLENGE_BODY_BYTES } from './server/challenge-route.ts';
export { NODE_CONFIG_FILE, type NodeConfig, nodeConfigSchema, renderNodeConfig } from './config.ts';
