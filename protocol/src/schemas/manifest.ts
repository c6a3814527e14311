import { TENSOR_DATATYPE_NAMES } from '../tensors.ts';
import { z } from 'zod';

/**
 * A model is an artifact (the `.onnx` bytes) plus this manifest. The artifact's SHA-256 is its content
 * id: a node loads an artifact only when its hash equals `contentId`, so any peer may serve the bytes.
 */
export const MANIFEST_FILE_SUFFIX = '.manifest.json';

const tensorSpecSchema = z.object({
  name: z.string().min(1).max(256),
  datatype: z.enum(TENSOR_DATATYPE_NAMES),
  /** -1 marks a dynamic dimension. */
  shape: z.array(z.number().int().min(-1)).max(16),
});

export const modelManifestSchema = z.object({
  name: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,127}$/, 'must be lowercase letters, digits, . _ -'),
  version: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/),
  task: z.string().min(1).max(128),
  description: z.string().max(2000).default(''),
  contentId: z.string().regex(/^[0-9a-f]{64}$/, 'must be the artifact SHA-256 in lowercase hex'),
  sizeBytes: z.number().int().positive(),
  inputs: z.array(tensorSpecSchema).min(1),
  outputs: z.array(tensorSpecSchema).min(1),
  /** True when dim 0 of every input and output is the batch dimension (dynamic batching may join requests). */
  batchable: z.boolean(),
  /** Id of the pre/post-processing pipeline that maps domain values to tensors and back. */
  pipeline: z.string().max(128).optional(),
  labels: z.array(z.string().max(128)).max(100_000).optional(),
  quantization: z
    .object({ scheme: z.enum(['fp32', 'int8']), method: z.string().max(500).optional() })
    .default({ scheme: 'fp32' }),
  /** Accuracy measured on a held-out set, 0–1. */
  accuracy: z.record(z.string(), z.number()).optional(),
  /** Largest absolute difference between two nodes' outputs that spot checks still accept. */
  tolerance: z.number().nonnegative().default(1e-4),
  /** Models that should prefer accelerated nodes (heavy models). */
  prefersAccelerator: z.boolean().default(false),
  /** Example input shapes for the warm-up run, where dynamic dims other than the batch need a size. */
  warmupShapes: z.record(z.string(), z.array(z.number().int().positive()).max(16)).optional(),
  license: z.string().min(1).max(200),
  source: z.string().min(1).max(500),
});

export type ModelManifest = z.infer<typeof modelManifestSchema>;
export type TensorSpec = z.infer<typeof tensorSpecSchema>;
