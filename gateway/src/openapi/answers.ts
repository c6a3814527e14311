import { modelManifestSchema, nodeIdSchema, signedRegistrationSchema } from '@hexedge/protocol';
import { z } from 'zod';

/**
 * The shapes of the gateway's own answers (those that no protocol schema already fixes), for the
 * OpenAPI document. They are strict on output (zod's JSON Schema marks objects closed), so the tests
 * that check live answers against the document catch a field added or renamed without a word here.
 */

const registration = signedRegistrationSchema.shape.body.shape;
const nodeModelSchema = registration.models.element;
const hardwareSchema = registration.hardware;
const nullableMs = z.number().nullable();

const partState = z.enum(['starting', 'up', 'down']);
export const healthSchema = z.object({ ok: z.boolean(), parts: z.record(z.string(), partState) });

export const trustSchema = z.object({
  score: z.number(),
  probation: z.boolean(),
  reasons: z.array(z.string()),
});
/** placement's NodeStatus. */
const nodeStatusSchema = z.enum(['healthy', 'unhealthy', 'draining']);

export const nodeDetailSchema = z.object({
  id: nodeIdSchema,
  status: nodeStatusSchema,
  cell: z.string(),
  lat: z.number(),
  lng: z.number(),
  locationVerified: z.boolean(),
  hardware: hardwareSchema,
  models: z.array(nodeModelSchema),
  registeredAtMs: z.number(),
  lastHeartbeatAtMs: z.number(),
  trust: trustSchema.optional(),
});

/** The registry's answer to a registration or heartbeat (protocol's NodeAck). */
export const nodeAckSchema = z.object({
  ok: z.literal(true),
  heartbeatIntervalMs: z.number(),
  desiredModels: z
    .array(z.object({ name: z.string(), version: z.string(), contentId: z.string() }))
    .optional(),
});

export const nearestAnswerSchema = (nearestNode: z.ZodType) => z.object({ nodes: z.array(nearestNode) });

const traceHopSchema = z.object({
  hop: z.string(),
  startMs: z.number(),
  durationMs: z.number(),
  nodeId: z.string().optional(),
  spanId: z.string().optional(),
  ok: z.boolean().optional(),
  detail: z.string().optional(),
});
/** GET /v1/traces/{requestId} (gateway/src/trace/trace-book.ts TraceRecord). */
export const traceAnswerSchema = z.object({
  traces: z.array(
    z.object({
      requestId: z.string(),
      tenant: z.string(),
      traceId: z.string(),
      callerSpanId: z.string().optional(),
      model: z.string(),
      channel: z.enum(['http', 'mqtt', 'bridge']),
      atMs: z.number(),
      totalMs: z.number(),
      ok: z.boolean(),
      code: z.string().optional(),
      cache: z.string().optional(),
      hops: z.array(traceHopSchema),
    }),
  ),
});

export const usageSchema = z.object({
  key: z.object({ id: z.string(), name: z.string(), dailyQuota: z.number(), usedToday: z.number() }),
  requests: z.number().int(),
  errors: z.record(z.string(), z.number().int()),
  models: z.array(
    z.object({ model: z.string(), requests: z.number().int(), errors: z.number().int(), p50Ms: nullableMs }),
  ),
});

const manifest = modelManifestSchema.shape;
export const catalogSchema = z.object({
  models: z.array(
    z.object({
      name: z.string(),
      version: z.string(),
      task: z.string(),
      description: z.string(),
      contentId: z.string(),
      sizeBytes: z.number(),
      inputs: manifest.inputs,
      outputs: manifest.outputs,
      pipeline: z.string().nullable(),
      labels: z.array(z.string()).optional(),
      quantization: manifest.quantization,
      accuracy: manifest.accuracy,
      prefersAccelerator: z.boolean(),
      license: z.string(),
      source: z.string(),
      servedBy: z.array(z.object({ id: z.string(), cell: z.string() })),
    }),
  ),
});

export const peersSchema = z.object({
  peers: z.array(z.object({ id: nodeIdSchema, url: z.string(), distanceKm: z.number() })),
});

const keyViewShape = {
  id: z.string(),
  name: z.string(),
  role: z.enum(['admin', 'app']),
  models: z.array(z.string()).optional(),
  region: z.string().optional(),
  ratePerSecond: z.number(),
  burst: z.number(),
  dailyQuota: z.number(),
  createdAtMs: z.number(),
  slot: z.string().optional(),
  expiresAtMs: z.number().optional(),
  revokedAtMs: z.number().optional(),
};
export const keyViewSchema = z.object(keyViewShape);
export const keyListSchema = z.object({ keys: z.array(keyViewSchema) });
export const newKeyAnswerSchema = z.object({ key: z.string(), ...keyViewShape, note: z.string() });

export const trustPushAnswerSchema = z.object({
  seq: z.number().int(),
  applied: z.number().int(),
  ignored: z.array(z.string()),
});

/** The coverage oracle's `/v1/coverage` answer, proxied as it came (the oracle owns its cells' fields). */
export const coverageSchema = z.looseObject({
  cells: z.array(z.looseObject({ cell: z.string() })),
  truncated: z.boolean(),
});

/** A node's own OIP v2 answer to a re-run (tensor outputs, or a pipeline's domain output), as it came. */
export const rerunAnswerSchema = z.looseObject({
  model_name: z.string(),
  model_version: z.string().optional(),
  id: z.string().optional(),
});

// --- the dashboards' data ---

const serviceStatsSchema = z.object({
  requests: z.number().int(),
  errors: z.number().int(),
  p50Ms: nullableMs,
  p99Ms: nullableMs,
  lastServedAtMs: nullableMs,
});

const hexRowShape = {
  cell: z.string(),
  lat: z.number(),
  lng: z.number(),
  nodes: z.number().int(),
  healthy: z.number().int(),
  coverage: z.number(),
  meanTrust: z.number().nullable(),
  probation: z.number().int(),
  demand: z.number().int(),
  p50LatencyMs: nullableMs,
  requestRes: z.number().int(),
};
export const hexesSchema = (metrics: readonly [string, ...string[]]) =>
  z.object({
    res: z.number().int(),
    metric: z.enum(metrics),
    windowMs: z.number(),
    coverageSource: z.string(),
    cells: z.array(z.object({ ...hexRowShape, value: z.number().nullable() })),
  });

export const hexDetailSchema = z.object({
  cell: z.string(),
  res: z.number().int(),
  demand: z.number().int(),
  p50LatencyMs: nullableMs,
  windowMs: z.number(),
  signal: z.object({ rssiDbm: z.number(), snrDb: z.number(), witnesses: z.number().int() }).nullable(),
  nodes: z.array(
    z.object({
      id: nodeIdSchema,
      status: nodeStatusSchema,
      lat: z.number(),
      lng: z.number(),
      trust: trustSchema,
      models: z.array(z.object({ name: z.string(), version: z.string(), ready: z.boolean() })),
      queueDepth: z.number().int(),
      lastHeartbeatAtMs: z.number(),
      served: serviceStatsSchema,
    }),
  ),
  truncated: z
    .boolean()
    .describe(
      'true when the hex holds more nodes than are listed (at most 200, nearest its centre): a coarse (res 0/1) hex is a continent; ask a finer cell for the rest',
    ),
});

export const operatorSchema = z.object({
  id: nodeIdSchema,
  status: nodeStatusSchema,
  cell: z.string(),
  lat: z.number(),
  lng: z.number(),
  regions: z.array(z.string()),
  locationVerified: z.boolean(),
  hardware: hardwareSchema,
  models: z.array(nodeModelSchema),
  draining: z.boolean(),
  pricePerRequest: z.number(),
  registeredAtMs: z.number(),
  lastHeartbeatAtMs: z.number(),
  heartbeatIntervalMs: z.number(),
  served: serviceStatsSchema,
  trust: trustSchema,
  /** What the coverage oracle knows of the node (its verdicts, rewards, manifest entry); null without one. */
  oracle: z.looseObject({}).nullable(),
  /** The proof-of-sampling condition this epoch; null without an oracle. */
  posp: z.looseObject({}).nullable(),
});

export const usageDetailSchema = z.object({
  windowMs: z.number(),
  bucketMs: z.number(),
  regions: z.array(
    z.object({
      region: z.string(),
      requests: z.number().int(),
      errors: z.number().int(),
      p50Ms: nullableMs,
      p99Ms: nullableMs,
    }),
  ),
  timeline: z.array(z.object({ atMs: z.number(), requests: z.number().int(), errors: z.number().int() })),
});

export const gatewayEventSchema = z.object({
  id: z.number().int(),
  type: z.string(),
  atMs: z.number(),
  audience: z.looseObject({ kind: z.enum(['public', 'key', 'fleet']) }),
  data: z.unknown(),
});
export const fleetEventsSchema = z.object({ events: z.array(gatewayEventSchema) });
export const eventAcceptedSchema = z.object({ id: z.number().int() });

export const deviceListSchema = (device: z.ZodType) => z.object({ devices: z.array(device) });
export const profileListSchema = (profile: z.ZodType) => z.object({ profiles: z.array(profile) });
