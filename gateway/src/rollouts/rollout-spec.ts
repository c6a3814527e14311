import { HexEdgeError } from '@hexedge/protocol';
import { z } from 'zod';

/**
 * What an operator asks for (`POST /v1/rollouts`, `PUT /v1/models/{name}/version-policy`) and what
 * the gateway keeps (the `Rollout` record, persisted). Every limit is named with its unit; defaults
 * are chosen so that a broken candidate is rolled back well within a minute at a few requests a second.
 */

/** Versions are the catalogue's (`name@version` files); the same characters the infer API allows. */
const versionSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces');
const modelNameSchema = z.string().min(1).max(128);
/** A principal named in a canary's include list: an API key id, a device id or a fleet. */
const principalSchema = z.string().min(1).max(128);

/** Who is sent to the candidate: a stable share of principals (API keys, devices or fleets), plus named ones. */
export const CANARY_DIMENSIONS = ['key', 'device', 'fleet'] as const;
export type CanaryDimension = (typeof CANARY_DIMENSIONS)[number];

const canarySchema = z
  .object({
    /** Share of principals served by the candidate, in percent (sticky: a principal stays on its version). */
    percent: z.number().min(0).max(100).default(5),
    /** What a principal is: the API key (MQTT client for devices), the device, or the device's fleet. */
    by: z.enum(CANARY_DIMENSIONS).default('key'),
    /** Principals always in the canary (a test fleet, an internal key), whatever `percent` says. */
    include: z.array(principalSchema).max(256).default([]),
    /** Share of the nodes holding the model that the planner gives the candidate, in (0, 1]. */
    nodeShare: z.number().gt(0).max(1).default(0.25),
    /** At most this many nodes get the candidate while it is a canary. */
    maxNodes: z.number().int().min(1).max(100_000).optional(),
  })
  .strict();

const shadowSchema = z
  .object({
    /** Share of requests mirrored to the other version (on another node) and compared, in percent. */
    percent: z.number().min(0).max(100).default(10),
    /** Mirrored requests in progress at once for this rollout; past it a mirror is shed, never queued. */
    maxInFlight: z.number().int().min(1).max(1_000).default(8),
    /** A mirrored request's whole budget (it waits for nobody, so it is short). */
    deadlineMs: z.number().int().min(100).max(30_000).default(5_000),
  })
  .strict();

const thresholdsSchema = z
  .object({
    /** The candidate's failed answers over its answers in the window, above which it is rolled back. */
    maxErrorRate: z.number().min(0).max(1).default(0.05),
    /** Compared answers that differ beyond the tolerance, over those compared, above which it is rolled back. */
    maxDivergenceRate: z.number().min(0).max(1).default(0.01),
    /** Absolute ceiling on the candidate's p95 answer time, in ms (none by default). */
    maxP95Ms: z.number().positive().max(600_000).optional(),
    /** The candidate's p95 may be at most this many times the baseline's p95, plus `p95SlackMs`. */
    maxP95Ratio: z.number().min(1).max(100).default(2),
    /** Added to the ratio bound: a 3 ms baseline does not make a 7 ms candidate a regression. */
    p95SlackMs: z.number().min(0).max(600_000).default(50),
    /** Answers the candidate needs in the window before its error rate and p95 are judged. */
    minSamples: z.number().int().min(1).max(100_000).default(20),
    /** Comparisons needed before the divergence rate is judged. */
    minComparisons: z.number().int().min(1).max(100_000).default(10),
    /** The sliding window the rates and percentiles are computed over, in ms. */
    windowMs: z.number().int().min(1_000).max(3_600_000).default(30_000),
    /** Largest absolute output difference that still agrees; default: the larger of the two manifests' tolerances. */
    tolerance: z.number().min(0).max(1e6).optional(),
  })
  .strict();

const promotionSchema = z
  .object({
    /** Promote by itself once healthy long enough; false: only `POST …/promote` promotes. */
    auto: z.boolean().default(true),
    /** How long the candidate must have served (since its first answer) without a regression, in ms. */
    afterMs: z
      .number()
      .int()
      .min(0)
      .max(30 * 86_400_000)
      .default(300_000),
    /** Answers the candidate must have given in all (canary and mirrored). */
    minSamples: z.number().int().min(0).max(10_000_000).default(200),
    /** Comparisons with the baseline it must have passed (0 when no shadow traffic is asked for). */
    minComparisons: z.number().int().min(0).max(10_000_000).default(20),
  })
  .strict();

export const newRolloutSchema = z
  .object({
    model: modelNameSchema,
    /** The version being rolled out; it must be in the catalogue. */
    candidate: versionSchema,
    /** The version it replaces; default: what the model's version policy serves now. */
    baseline: versionSchema.optional(),
    canary: canarySchema.default(canarySchema.parse({})),
    shadow: shadowSchema.default(shadowSchema.parse({})),
    thresholds: thresholdsSchema.default(thresholdsSchema.parse({})),
    promotion: promotionSchema.default(promotionSchema.parse({})),
  })
  .strict();

export type NewRollout = z.infer<typeof newRolloutSchema>;
export type RolloutThresholds = z.infer<typeof thresholdsSchema>;

/**
 * Which version a request without one is served by, per model:
 * - `all`: any version a node announces (the default, and what a model without a policy gets);
 * - `latest`: the newest version in the catalogue (numeric-aware order) that is not withdrawn;
 * - `specific`: the named version.
 * A request that names a version gets that version whatever the policy says.
 */
export const VERSION_POLICY_MODES = ['all', 'latest', 'specific'] as const;
export const versionPolicySchema = z
  .object({
    mode: z.enum(VERSION_POLICY_MODES),
    version: versionSchema.optional(),
  })
  .strict()
  .superRefine((p, ctx) => {
    if ((p.mode === 'specific') !== (p.version !== undefined))
      ctx.addIssue({
        code: 'custom',
        path: ['version'],
        message:
          p.mode === 'specific'
            ? "is required when mode is 'specific'"
            : `is only allowed when mode is 'specific' (mode is '${p.mode}')`,
      });
  });
export type VersionPolicyInput = z.infer<typeof versionPolicySchema>;

export interface VersionPolicy extends VersionPolicyInput {
  model: string;
  /** Versions rolled back: `latest` and `all` never serve them (a caller may still name one). */
  withdrawn: string[];
  updatedAtMs: number;
}

export type RolloutState = 'running' | 'promoted' | 'rolled-back';

export interface RolloutEvent {
  atMs: number;
  event: 'created' | 'candidate-serving' | 'promoted' | 'rolled-back' | 'resumed';
  detail: string;
}

/** A rollout as kept (SQLite on Node) and shown (`GET /v1/rollouts/{id}`, the dashboard). */
export interface Rollout extends NewRollout {
  id: string;
  baseline: string;
  state: RolloutState;
  createdAtMs: number;
  /** When a node first ran the candidate (an answer or a failure, canary or mirror): from here a regression can be seen. */
  candidateFirstAnsweredAtMs?: number;
  /** When the regression was first seen (the threshold first exceeded); rollback follows at once. */
  regressionSeenAtMs?: number;
  endedAtMs?: number;
  /** Who ended it: the gateway's own judgement, or an admin through the API. */
  decidedBy?: 'auto' | 'admin';
  reason?: string;
  /** What happened, oldest first (bounded). */
  history: RolloutEvent[];
}

export const MAX_ROLLOUT_HISTORY = 50;

/**
 * Parses with the schema; a refusal names the field and the value that was given, so an operator
 * sees `canary.percent: 150 is too big (at most 100)` rather than a bare "invalid".
 */
export function parseSpec<S extends z.ZodType>(schema: S, value: unknown, what: string): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const path = issue.path.length ? issue.path.join('.') : '(root)';
  let given: unknown = value;
  for (const key of issue.path)
    given = (given as Record<PropertyKey, unknown> | undefined)?.[key as PropertyKey];
  const shown = given === undefined ? 'missing' : JSON.stringify(given)?.slice(0, 80);
  throw new HexEdgeError('INVALID_REQUEST', `${what}: ${path}: ${issue.message} (given: ${shown})`, {
    field: path,
  });
}
