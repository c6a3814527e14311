import { z } from 'zod';
import { TENSOR_DATATYPE_NAMES, type TensorData } from '../tensors.ts';
import { isWithinJsonDepth, MAX_JSON_DEPTH } from '../canonical.ts';

/** Open Inference Protocol v2 (REST) request and response bodies — see shared/specs/open_inference_rest.yaml. */
export const MAX_TENSORS_PER_REQUEST = 64;
const tensorName = z.string().min(1).max(256);
const parameters = z
  .record(z.string(), z.unknown())
  .refine((v) => isWithinJsonDepth(v), `is nested deeper than ${MAX_JSON_DEPTH} levels`)
  .optional();

/**
 * Tensor data is checked element by element once, by `checkTensor` (datatype, shape, range); here
 * only its outer form. A per-element zod union cost ~60 µs per 1.5k-element request on the hot path.
 */
const tensorData = z.custom<TensorData>(
  (v) => Array.isArray(v) || typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean',
  'must be an array (nested row-major) or a single number, string or boolean',
);

export const oipRequestInputSchema = z.object({
  name: tensorName,
  shape: z.array(z.number().int().nonnegative()).max(16),
  datatype: z.enum(TENSOR_DATATYPE_NAMES),
  parameters,
  data: tensorData,
});

export const oipRequestOutputSchema = z.object({ name: tensorName, parameters });

export const oipInferenceRequestSchema = z.object({
  id: z.string().max(256).optional(),
  parameters,
  inputs: z.array(oipRequestInputSchema).min(1).max(MAX_TENSORS_PER_REQUEST),
  outputs: z.array(oipRequestOutputSchema).max(MAX_TENSORS_PER_REQUEST).optional(),
});

export const oipResponseOutputSchema = z.object({
  name: z.string(),
  shape: z.array(z.number().int().nonnegative()),
  datatype: z.enum(TENSOR_DATATYPE_NAMES),
  parameters,
  data: z.array(z.union([z.number(), z.string(), z.boolean()])),
});

export const oipInferenceResponseSchema = z.object({
  model_name: z.string(),
  model_version: z.string().optional(),
  id: z.string().optional(),
  parameters,
  outputs: z.array(oipResponseOutputSchema),
});

export type OipRequestInput = z.infer<typeof oipRequestInputSchema>;
export type OipInferenceRequest = z.infer<typeof oipInferenceRequestSchema>;
export type OipResponseOutput = z.infer<typeof oipResponseOutputSchema>;
export type OipInferenceResponse = z.infer<typeof oipInferenceResponseSchema>;

/**
 * HexEdge's domain-value extension of OIP: `POST /v2/models/{name}[/versions/{v}]/predict` takes a
 * domain input (named readings, base64 PCM16, a base64 PNG) that the model's pipeline maps to tensors,
 * and answers the pipeline's domain output.
 */
export const predictRequestSchema = z.object({
  id: z.string().max(256).optional(),
  input: z
    .unknown()
    .refine((v) => v !== undefined, 'is required')
    .refine((v) => isWithinJsonDepth(v), `is nested deeper than ${MAX_JSON_DEPTH} levels`),
});

export const predictResponseSchema = z.object({
  model_name: z.string(),
  model_version: z.string(),
  id: z.string(),
  output: z.unknown(),
  parameters,
});

export type PredictRequest = z.infer<typeof predictRequestSchema>;
export type PredictResponse = z.infer<typeof predictResponseSchema>;
