import { z } from 'zod';
import { BATCH_SIGNED_VERSION } from '../batch/batch-signing.ts';
import { latLngSchema, nodeIdSchema, signedReceiptSchema } from '../schemas/node.ts';
import { batchProofSchema } from '../schemas/receipt.ts';
import { TENSOR_DATATYPE_NAMES } from '../tensors.ts';
import { MAX_TRACEPARENT_CHARS } from '../trace-context.ts';
import { MAX_DEADLINE_MS } from '../schemas/infer.ts';
import { PRIORITIES } from '../schemas/priority.ts';
import { signedChallengeResponseSchema } from './latency-challenge.ts';
import { nodeFaultReportBodySchema } from './node-fault-report.ts';
import { SIGNATURE_PATTERN } from '../identity.ts';

/**
 * What reporters send to the oracle (`POST /v1/oracle/reports`, one or an array): a body signed by
 * the reporter with kind 'report' (protocol's signBody). Every number is checked for range here, so a
 * malformed one is refused at ingest and never reaches a stage.
 */
const base64Url = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .regex(/^[A-Za-z0-9_-]+$/, 'must be base64url');
const finite = z.number().finite();
const base = {
  nodeId: nodeIdSchema,
  /** 16–48 random bytes; (nodeId, nonce) is accepted once. */
  nonce: z.string().regex(/^[A-Za-z0-9_-]{22,64}$/, 'must be 16–48 random bytes in base64url'),
  issuedAtMs: z.number().int().nonnegative(),
};
/** LoRa runs in sub-GHz and 2.4 GHz ISM bands: anything outside 100 MHz – 3 GHz is not a LoRa frequency. */
const frequencyHz = z.number().int().min(100_000_000).max(3_000_000_000);
const datarate = z.string().min(1).max(32);

export const beaconReportBodySchema = z.object({
  type: z.literal('beacon'),
  ...base,
  /** The oracle-published entropy the beacon was built from; fixes the validity window. */
  entropyId: z.string().min(1).max(128),
  beacon: z.object({ data: base64Url(512), frequencyHz, datarate, txPowerDbm: finite.min(-30).max(36) }),
});
export const witnessReportBodySchema = z.object({
  type: z.literal('witness'),
  ...base,
  witness: z.object({
    data: base64Url(512),
    frequencyHz,
    datarate,
    signalDbm: finite.min(-200).max(30),
    snrDb: finite.min(-50).max(50),
  }),
});

const tensorSchema = z.object({
  name: z.string().min(1).max(256),
  datatype: z.enum(TENSOR_DATATYPE_NAMES),
  shape: z.array(z.number().int().nonnegative()).max(16),
  data: z.array(z.union([finite, z.string(), z.boolean()])).max(1_000_000),
});
const modelRef = { modelName: z.string().min(1).max(128), modelVersion: z.string().min(1).max(64) };
/**
 * `digests`: the request of a region-bound API key, whose raw inputs and outputs stay in its region.
 * The receipt's digests bind the work; such a receipt counts as work but is not re-run elsewhere.
 */
export const inferenceRequestSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('tensors'), ...modelRef, inputs: z.array(tensorSchema).min(1).max(64) }),
  z.object({ kind: z.literal('domain'), ...modelRef, input: z.unknown() }),
  z.object({ kind: z.literal('digests'), ...modelRef }),
]);
export const inferenceResultSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('tensors'), outputs: z.array(tensorSchema).min(1).max(64) }),
  z.object({ kind: z.literal('domain'), output: z.unknown() }),
  z.object({ kind: z.literal('digests') }),
]);
/** A gateway forwards each checked receipt with the request and result it covers (needed to re-run it). */
export const receiptReportBodySchema = z.object({
  type: z.literal('receipt'),
  ...base,
  receipt: signedReceiptSchema,
  request: inferenceRequestSchema,
  result: inferenceResultSchema,
  /**
   * What the request carried beside its body: the W3C trace of the answer (so the oracle's spot check
   * joins it) and its priority and deadline (so the re-runs carry the same as live traffic and a node
   * cannot tell a check by its headers). Beside the receipt, never in it: the receipt's hash (work,
   * sampling, evidence) is over its body and signature only.
   */
  context: z
    .object({
      traceparent: z.string().max(MAX_TRACEPARENT_CHARS).optional(),
      priority: z.enum(PRIORITIES).optional(),
      deadlineMs: z.number().int().positive().max(MAX_DEADLINE_MS).optional(),
    })
    .optional(),
});
/** A GPS-tagged uplink heard by hotspots (from the firmware bridge): evidence of real coverage. */
export const uplinkReportBodySchema = z.object({
  type: z.literal('uplink'),
  ...base,
  uplink: z.object({
    location: latLngSchema.refine(
      (p) => p.lat >= -90 && p.lat <= 90 && p.lng >= -180 && p.lng <= 180,
      'lat/lng out of range',
    ),
    frequencyHz,
    heardBy: z
      .array(
        z.object({
          hotspotKey: z.string().min(1).max(128),
          signalDbm: finite.min(-200).max(30),
          snrDb: finite.min(-50).max(50),
        }),
      )
      .min(1)
      .max(64),
  }),
});
/** A remote challenger's timed exchange with a node; `response` is the node's signed answer (proof it answered). */
export const locationReportBodySchema = z.object({
  type: z.literal('location'),
  ...base,
  targetNodeId: nodeIdSchema,
  answered: z.boolean(),
  rttMs: finite.min(0).max(60_000).optional(),
  response: signedChallengeResponseSchema.optional(),
});

export const reportBodySchema = z.discriminatedUnion('type', [
  beaconReportBodySchema,
  witnessReportBodySchema,
  receiptReportBodySchema,
  uplinkReportBodySchema,
  locationReportBodySchema,
  nodeFaultReportBodySchema,
]);
/** A report signed alone (v1). */
export const singleReportSchema = z.object({
  v: z.undefined().optional(),
  body: reportBodySchema,
  signature: z.string().regex(SIGNATURE_PATTERN, 'must be a base64url Ed25519 signature'),
});
/**
 * A report signed as a leaf of its reporter's batch (v2, protocol's batch signing, kind `report`): a
 * gateway forwarding a hundred receipts signs one root, not a hundred reports. Verifiable alone.
 */
export const batchReportSchema = z.object({
  v: z.literal(BATCH_SIGNED_VERSION),
  body: reportBodySchema,
  batch: batchProofSchema,
});
export const signedReportSchema = z.discriminatedUnion('v', [batchReportSchema, singleReportSchema]);

export type ReportBody = z.infer<typeof reportBodySchema>;
export type BeaconReportBody = z.infer<typeof beaconReportBodySchema>;
export type WitnessReportBody = z.infer<typeof witnessReportBodySchema>;
export type ReceiptReportBody = z.infer<typeof receiptReportBodySchema>;
export type UplinkReportBody = z.infer<typeof uplinkReportBodySchema>;
export type LocationReportBody = z.infer<typeof locationReportBodySchema>;
export type SignedReport = z.infer<typeof signedReportSchema>;

/** Where reporters post reports (one, or an array of them) on the oracle. */
export const REPORTS_PATH = '/v1/oracle/reports';
/** A batch of reports: a gateway's receipts with their tensors can be large; 8 MiB bounds one post. */
export const MAX_REPORTS_BODY_BYTES = 8 * 1024 * 1024;
/** Reports per post: ingest checks a batch concurrently, so a bound keeps one post from starving others. */
export const MAX_REPORTS_PER_POST = 1000;
