import { z } from 'zod';
import { NODE_ID_PATTERN, SIGNATURE_PATTERN } from '../identity.ts';

export { type ReceiptBody, receiptBodySchema, type SignedReceipt, signedReceiptSchema } from './receipt.ts';

/** Messages an edge node signs: registration, heartbeat and the receipt attached to every answer. */
export const nodeIdSchema = z
  .string()
  .regex(NODE_ID_PATTERN, 'must be a base64url Ed25519 public key (43 chars, its canonical spelling)');
export const latLngSchema = z.object({ lat: z.number(), lng: z.number() });
const sha256HexSchema = z.string().regex(/^[0-9a-f]{64}$/, 'must be a lowercase hex SHA-256');
const signatureSchema = z.string().regex(SIGNATURE_PATTERN, 'must be a base64url Ed25519 signature');

export const EXECUTION_PROVIDERS = [
  'cpu',
  'wasm',
  'cuda',
  'tensorrt',
  'webgpu',
  'openvino',
  'qnn',
  'coreml',
] as const;
export const executionProviderSchema = z.enum(EXECUTION_PROVIDERS);
export type ExecutionProvider = z.infer<typeof executionProviderSchema>;

export const modelLoadSchema = z.object({
  queueDepth: z.number().int().nonnegative(),
  inFlight: z.number().int().nonnegative(),
  ewmaServiceMs: z.number().nonnegative(),
});

export const nodeModelSchema = z.object({
  name: z.string().min(1).max(128),
  version: z.string().min(1).max(64),
  contentId: sha256HexSchema,
  ready: z.boolean(),
  executionProvider: executionProviderSchema.optional(),
  load: modelLoadSchema.optional(),
  /** From the model's manifest: run it only where an accelerator (not cpu/wasm) executes it. */
  prefersAccelerator: z.boolean().optional(),
  /** From the model's manifest: the ONNX file's size, for the placement planner's memory budget. */
  sizeBytes: z.number().int().positive().optional(),
});

export const hardwareSchema = z.object({
  cpuCores: z.number().int().positive().max(4096),
  memoryMb: z.number().int().positive(),
  executionProviders: z.array(executionProviderSchema).min(1).max(EXECUTION_PROVIDERS.length),
});

export const MAX_MODELS_PER_NODE = 256;

export const registrationBodySchema = z.object({
  nodeId: nodeIdSchema,
  issuedAtMs: z.number().int().nonnegative(),
  url: z.url({ protocol: /^https?$/ }).max(512),
  location: latLngSchema,
  hardware: hardwareSchema,
  models: z.array(nodeModelSchema).max(MAX_MODELS_PER_NODE),
  /** Asking price per request in settlement units; optional so nodes that predate pricing still validate. */
  pricePerRequest: z.number().nonnegative().max(1e12).optional(),
});

export const heartbeatBodySchema = z.object({
  nodeId: nodeIdSchema,
  seq: z.number().int().nonnegative(),
  issuedAtMs: z.number().int().nonnegative(),
  models: z.array(nodeModelSchema).max(MAX_MODELS_PER_NODE),
  draining: z.boolean().optional(),
});

function signedSchema<T extends z.ZodType>(body: T) {
  return z.object({ body, signature: signatureSchema });
}

export const signedRegistrationSchema = signedSchema(registrationBodySchema);
export const signedHeartbeatSchema = signedSchema(heartbeatBodySchema);

export type NodeModel = z.infer<typeof nodeModelSchema>;
export type ModelLoad = z.infer<typeof modelLoadSchema>;
export type Hardware = z.infer<typeof hardwareSchema>;
export type RegistrationBody = z.infer<typeof registrationBodySchema>;
export type HeartbeatBody = z.infer<typeof heartbeatBodySchema>;
export type SignedRegistration = z.infer<typeof signedRegistrationSchema>;
export type SignedHeartbeat = z.infer<typeof signedHeartbeatSchema>;

/** A node's answer to a registration or heartbeat. */
export interface NodeAck {
  ok: true;
  heartbeatIntervalMs: number;
  /** The models placement's planner wants this node to hold; the node pulls what it lacks. */
  desiredModels?: { name: string; version: string; contentId: string }[];
}

/** OIP parameters carry only strings, numbers and booleans, so a node's signed receipt travels as JSON
 * text in this response parameter. */
export const RECEIPT_PARAMETER = 'hexedge_receipt';
