import { z } from 'zod';
import { oipRequestInputSchema, oipRequestOutputSchema, oipResponseOutputSchema } from './oip.ts';
import { signedReceiptSchema } from './node.ts';

/** The gateway's public API: POST /v1/infer and GET /v1/nodes/nearest. */
export const MAX_INFER_BODY_BYTES = 8 * 1024 * 1024;
export const MAX_NEAREST_K = 100;

export const locationInputSchema = z.union([
  z.object({ lat: z.number(), lng: z.number() }).strict(),
  z.object({ cell: z.string().max(32) }).strict(),
]);

export const inferRequestSchema = z.object({
  model: z.string().min(1).max(128),
  version: z.string().min(1).max(64).optional(),
  location: locationInputSchema,
  inputs: z.array(oipRequestInputSchema).min(1).max(64),
  outputs: z.array(oipRequestOutputSchema).max(64).optional(),
  id: z.string().min(1).max(128).optional(),
});

export const inferResponseSchema = z.object({
  id: z.string(),
  model_name: z.string(),
  model_version: z.string(),
  outputs: z.array(oipResponseOutputSchema),
  node: z.object({ id: z.string(), cell: z.string(), distanceKm: z.number() }),
  timing: z.object({ placementMs: z.number(), nodeMs: z.number(), totalMs: z.number() }),
  receipt: signedReceiptSchema,
});

export const nearestNodeSchema = z.object({
  id: z.string(),
  cell: z.string(),
  lat: z.number(),
  lng: z.number(),
  distanceKm: z.number(),
  models: z.array(z.object({ name: z.string(), version: z.string(), ready: z.boolean() })),
});

export type LocationInput = z.infer<typeof locationInputSchema>;
export type InferRequest = z.infer<typeof inferRequestSchema>;
export type InferResponse = z.infer<typeof inferResponseSchema>;
export type NearestNode = z.infer<typeof nearestNodeSchema>;
