import { HexEdgeError } from '@hexedge/protocol';
import { createRoute, z } from '@hono/zod-openapi';
import { newRolloutSchema, versionPolicySchema } from '../rollouts/rollout-spec.ts';
import { errors, jsonAnswer, jsonBody } from './content.ts';
import { checked, pathParam } from './params.ts';

/** Rollouts and version policies (admin keys only): routes/rollouts.ts serves them. */

const security = [{ apiKey: [] }];
const tags = ['rollouts'];
const ADMIN = [401, 403, 429] as const;

const ROLLOUT_ID = /^ro-[0-9a-f]{12}$/;
const MODEL_NAME = /^[\x21-\x7e]{1,128}$/;
const shown = (raw: string | undefined) => JSON.stringify((raw ?? '').slice(0, 80));

function rolloutId(raw: string): string {
  if (!ROLLOUT_ID.test(raw))
    throw new HexEdgeError(
      'INVALID_REQUEST',
      `not a rollout id: ${shown(raw)} (ids look like ro-0123456789ab)`,
      {
        field: 'id',
      },
    );
  return raw;
}

function modelName(raw: string): string {
  if (!MODEL_NAME.test(raw))
    throw new HexEdgeError('INVALID_REQUEST', `not a model name: ${shown(raw)}`, { field: 'name' });
  return raw;
}

function listLimit(raw: string | undefined): number {
  const n = raw === undefined ? 100 : Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 500)
    throw new HexEdgeError(
      'INVALID_REQUEST',
      `limit must be an integer from 1 to 500, got ${JSON.stringify(raw)}`,
      {
        field: 'limit',
      },
    );
  return n;
}

export const rolloutParams = z.object({
  id: pathParam(rolloutId, { type: 'string', pattern: ROLLOUT_ID.source, description: 'the rollout id' }),
});
export const modelParams = z.object({
  name: pathParam(modelName, { type: 'string', pattern: MODEL_NAME.source, description: 'the model name' }),
});
export const rolloutListQuery = z.object({
  model: checked((raw) => (raw === undefined ? undefined : modelName(raw)), {
    type: 'string',
    pattern: MODEL_NAME.source,
    description: 'only rollouts of this model',
  }),
  limit: checked(listLimit, {
    type: 'integer',
    minimum: 1,
    maximum: 500,
    default: 100,
    description: 'at most this many rollouts, newest first',
  }),
});

// --- answers (strict: the live tests catch a field added or renamed without a word here) ---

const nullableNumber = z.number().nullable();
const versionStatsSchema = z.object({
  answers: z.number(),
  errors: z.number(),
  errorRate: z.number(),
  p50Ms: nullableNumber,
  p95Ms: nullableNumber,
  latencySamples: z.number(),
  compared: z.number(),
  diverged: z.number(),
  divergenceRate: z.number(),
  maxDifference: nullableNumber,
  totalAnswers: z.number(),
  totalErrors: z.number(),
  totalCompared: z.number(),
  totalDiverged: z.number(),
});
const verdictSchema = z.union([
  z.object({ action: z.literal('hold'), waiting: z.string() }),
  z.object({ action: z.enum(['rollback', 'promote']), reason: z.string() }),
]);
const rolloutEventSchema = z.object({
  atMs: z.number(),
  event: z.enum(['created', 'candidate-serving', 'promoted', 'rolled-back', 'resumed']),
  detail: z.string(),
});

/** A rollout as `RolloutManager.view` gives it: the record (the request with defaults filled) and live figures. */
export const rolloutViewSchema = newRolloutSchema.extend({
  id: z.string(),
  baseline: z.string(),
  state: z.enum(['running', 'promoted', 'rolled-back']),
  createdAtMs: z.number(),
  candidateFirstAnsweredAtMs: z.number().optional(),
  regressionSeenAtMs: z.number().optional(),
  endedAtMs: z.number().optional(),
  decidedBy: z.enum(['auto', 'admin']).optional(),
  reason: z.string().optional(),
  history: z.array(rolloutEventSchema),
  timeToDecisionMs: z.number().optional(),
  live: z
    .object({
      candidate: versionStatsSchema,
      baseline: versionStatsSchema,
      mirrorsInFlight: z.number(),
      mirrorsShed: z.number(),
      fallbacks: z.number(),
      unavailable: z.number(),
      errorCodes: z.record(z.string(), z.record(z.string(), z.number())),
      tolerance: z.number(),
      verdict: verdictSchema,
    })
    .strict()
    .optional(),
});

export const versionPolicyAnswerSchema = z
  .object({
    model: z.string(),
    mode: z.enum(['all', 'latest', 'specific']),
    version: z.string().optional(),
    withdrawn: z.array(z.string()),
    updatedAtMs: z.number(),
  })
  .strict();

const rolloutAnswer = (description: string) =>
  jsonAnswer({ name: 'Rollout', schema: rolloutViewSchema, description });
const policyAnswer = (description: string) =>
  jsonAnswer({ name: 'VersionPolicy', schema: versionPolicyAnswerSchema, description });
const reasonBody = z.object({ reason: z.string().min(1).max(500).optional() }).strict();

export const createRolloutRoute = createRoute({
  method: 'post',
  path: '/v1/rollouts',
  tags,
  security,
  summary: "Start a model's rollout: a canary share, shadow mirrors, thresholds and promotion rules",
  description:
    'The candidate must be in the catalogue and differ from the baseline; one rollout runs per model at a time (409 otherwise). Durable before it is answered.',
  request: {
    body: jsonBody({
      name: 'NewRollout',
      schema: newRolloutSchema,
      description: 'the rollout; omitted parts take their defaults',
    }),
  },
  responses: { 201: rolloutAnswer('started'), ...errors(400, ...ADMIN, 404, 409, 413, 503) },
});

export const listRolloutsRoute = createRoute({
  method: 'get',
  path: '/v1/rollouts',
  tags,
  security,
  summary: 'Rollouts, newest first (running ones with live figures), and every version policy',
  request: { query: rolloutListQuery },
  responses: {
    200: jsonAnswer({
      name: 'RolloutList',
      schema: z
        .object({ rollouts: z.array(rolloutViewSchema), policies: z.array(versionPolicyAnswerSchema) })
        .strict(),
      description: 'rollouts and policies',
    }),
    ...errors(400, ...ADMIN),
  },
});

export const getRolloutRoute = createRoute({
  method: 'get',
  path: '/v1/rollouts/{id}',
  tags,
  security,
  summary: 'One rollout with its history and, while it runs, its live figures and verdict',
  request: { params: rolloutParams },
  responses: { 200: rolloutAnswer('the rollout'), ...errors(400, ...ADMIN, 404) },
});

const decideRoute = (action: 'promote' | 'abort', summary: string) =>
  createRoute({
    method: 'post',
    path: `/v1/rollouts/{id}/${action}`,
    tags,
    security,
    summary,
    request: {
      params: rolloutParams,
      body: {
        ...jsonBody({
          name: 'RolloutDecision',
          schema: reasonBody,
          description: 'an optional reason, kept in the rollout’s history; no body is fine',
        }),
        required: false,
      },
    },
    responses: { 200: rolloutAnswer('decided'), ...errors(400, ...ADMIN, 404, 409, 413, 503) },
  });

export const promoteRolloutRoute = decideRoute('promote', 'Promote the candidate now (an admin’s decision)');
export const abortRolloutRoute = decideRoute(
  'abort',
  'Roll back to the baseline now; the candidate is withdrawn',
);

export const getVersionPolicyRoute = createRoute({
  method: 'get',
  path: '/v1/models/{name}/version-policy',
  tags,
  security,
  summary: "Which version serves a model's requests that name none",
  request: { params: modelParams },
  responses: {
    200: policyAnswer('the policy (mode `all` when none was set)'),
    ...errors(400, ...ADMIN, 404),
  },
});

export const putVersionPolicyRoute = createRoute({
  method: 'put',
  path: '/v1/models/{name}/version-policy',
  tags,
  security,
  summary: "Set a model's version policy: all, latest, or a specific version",
  description: 'Refused (409) while the model has a running rollout.',
  request: {
    params: modelParams,
    body: jsonBody({
      name: 'VersionPolicyInput',
      schema: versionPolicySchema,
      description: 'mode, and version for `specific`',
    }),
  },
  responses: { 200: policyAnswer('set'), ...errors(400, ...ADMIN, 404, 409, 413, 503) },
});
