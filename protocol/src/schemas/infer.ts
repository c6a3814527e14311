import { z } from 'zod';
import { oipRequestInputSchema, oipRequestOutputSchema, oipResponseOutputSchema } from './oip.ts';
import { PRIORITIES } from './priority.ts';
import { receiptWithMetadataSchema } from './receipt-metadata.ts';
import { isWithinJsonDepth, MAX_JSON_DEPTH } from '../canonical.ts';

/** The gateway's public API: POST /v1/infer and GET /v1/nodes/nearest. */
export const MAX_INFER_BODY_BYTES = 8 * 1024 * 1024;
export const MAX_NEAREST_K = 100;
/**
 * The longest a request may ask the gateway to keep working on it: a cold model load from a peer
 * (placement's coldLoadMs: ~2 s for 16 MB) plus a slow run fit many times over. Every waiting request
 * holds memory and a slot; 600 s let a caller park thousands of them.
 */
export const MAX_DEADLINE_MS = 60_000;
/** The largest answer the gateway reads from a node: an 8 MiB request's outputs with room to spare. */
export const MAX_NODE_ANSWER_BYTES = 16 * 1024 * 1024;

export const locationInputSchema = z.union([
  z.object({ lat: z.number(), lng: z.number() }).strict(),
  z.object({ cell: z.string().max(32) }).strict(),
]);

/**
 * How a request wants to be placed. `region` is an ISO 3166-1 code (`DE`) or a named region (`eu`,
 * `150` for Europe); placement resolves it and refuses an unknown one. Durations are from arrival.
 */
export const PLACEMENT_PREFERENCES = ['latency', 'price', 'balanced'] as const;
export const placementPolicySchema = z
  .object({
    /** Nodes whose predicted latency (network + service + queue) exceeds this are not used. */
    maxLatencyMs: z.number().positive().max(MAX_DEADLINE_MS).optional(),
    /** The request's whole budget; a node that must load the model first is used only if it fits. */
    deadlineMs: z.number().positive().max(MAX_DEADLINE_MS).optional(),
    region: z.string().regex(/^[A-Za-z0-9]{2,32}$/, 'must be a country or region code such as DE or eu').optional(),
    prefer: z.enum(PLACEMENT_PREFERENCES).optional(),
    minTrust: z.number().min(0).max(1).optional(),
    /** The caller may send a second copy to the next candidate when the first is slow. */
    hedge: z.boolean().optional(),
    /**
     * The node scheduler's priority (default normal). Under overload the lowest is refused first; a
     * caller's high-priority requests are bounded to a share of its in-flight allowance (gateway README).
     */
    priority: z.enum(PRIORITIES).optional(),
    /** false: neither answered from nor stored in the gateway's response cache (default: cacheable). */
    cache: z.boolean().optional(),
  })
  .strict();

/**
 * `POST /v1/infer` (and the MQTT request payload). Either raw OIP `inputs`, or a domain `input` that the
 * model's pipeline maps to tensors (named readings, base64 PCM16 audio, a base64 PNG) — exactly one.
 */
export const inferRequestSchema = z
  .object({
    model: z.string().min(1).max(128),
    version: z.string().min(1).max(64).optional(),
    location: locationInputSchema,
    inputs: z.array(oipRequestInputSchema).min(1).max(64).optional(),
    input: z
      .unknown()
      .refine((v) => isWithinJsonDepth(v), `is nested deeper than ${MAX_JSON_DEPTH} levels`)
      .optional(),
    outputs: z.array(oipRequestOutputSchema).max(64).optional(),
    id: z.string().min(1).max(128).regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces').optional(),
    policy: placementPolicySchema.optional(),
  })
  .superRefine((r, ctx) => {
    if ((r.inputs === undefined) === (r.input === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['inputs'], message: 'give either inputs (OIP tensors) or input (a domain value), not both or neither' });
    }
  });

export const inferResponseSchema = z.object({
  id: z.string(),
  model_name: z.string(),
  model_version: z.string(),
  /** Tensors for an `inputs` request; the pipeline's domain answer (`output`) for an `input` request. */
  outputs: z.array(oipResponseOutputSchema).optional(),
  output: z.unknown().optional(),
  node: z.object({ id: z.string(), cell: z.string(), distanceKm: z.number() }),
  timing: z.object({ placementMs: z.number(), nodeMs: z.number(), totalMs: z.number() }),
  /** The node's signed receipt; its unsigned `metadata` carries the trace and the node's timings. */
  receipt: receiptWithMetadataSchema,
  /**
   * Present on an answer from the gateway's response cache: the original answer, with the original
   * receipt (whose requestId is `requestId`, the request that was run), stored `ageMs` ago.
   */
  cached: z.object({ requestId: z.string(), storedAtMs: z.number(), ageMs: z.number() }).optional(),
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
export type PlacementPolicy = z.infer<typeof placementPolicySchema>;
export type PlacementPreference = (typeof PLACEMENT_PREFERENCES)[number];
export type InferRequest = z.infer<typeof inferRequestSchema>;
export type InferResponse = z.infer<typeof inferResponseSchema>;
export type NearestNode = z.infer<typeof nearestNodeSchema>;
