import {
  fastFields,
  isFastReceiptBody,
  isFastSigned,
  isMatch,
  isNonNegativeInt,
  isPlainWith,
  isStringWithin,
  NODE_IDS,
} from '../schemas/fast-check.ts';
import { TENSOR_DATATYPES } from '../tensors.ts';
import { MAX_TRACEPARENT_CHARS } from '../trace-context.ts';
import { MAX_DEADLINE_MS } from '../schemas/infer.ts';
import { PRIORITIES } from '../schemas/priority.ts';
import { signedReportSchema, type SignedReport } from './oracle-reports.ts';
import { fastReceiptReportLeaves, type FastReportLeaves } from './report-fast-leaf.ts';
import type { Sha256Hex } from '../encoding.ts';

/**
 * `signedReportSchema.safeParse` with a hand-checked fast path for what gateways forward by the
 * thousand: receipt reports with tensor or digest requests and results. A report the fast path takes
 * is returned as it is (zod would return an equal copy); any other — another report type, a domain
 * request, an extra key, a bad value — is parsed by the zod schema, which accepts it or names its
 * first issue exactly as before. See fast-check.ts for why true implies zod's acceptance.
 */
export function safeParseSignedReport(
  raw: unknown,
): { success: true; data: SignedReport } | ReturnType<typeof signedReportSchema.safeParse> {
  if (isFastSignedReport(raw)) return { success: true, data: raw as SignedReport };
  return signedReportSchema.safeParse(raw);
}

/**
 * `safeParseSignedReport`, and for a batch-signed receipt report the fast path takes, its batch leaf
 * hashes (and its batch-signed receipt's) written from its known shape (report-fast-leaf.ts), when
 * `sha256` is synchronous: what ingest verifies the report's and the receipt's proofs from.
 */
export function safeParseSignedReportWithLeaves(
  raw: unknown,
  sha256: Sha256Hex | undefined,
):
  | { success: true; data: SignedReport; leaves?: FastReportLeaves | undefined }
  | ReturnType<typeof signedReportSchema.safeParse> {
  if (isFastSignedReport(raw))
    return {
      success: true,
      data: raw as SignedReport,
      leaves: sha256 ? fastReceiptReportLeaves(raw, sha256) : undefined,
    };
  return signedReportSchema.safeParse(raw);
}

/** Whether the fast path takes this report (exported for the equivalence tests). */
export const isFastSignedReport = (raw: unknown): boolean => isFastSigned(raw, isFastReceiptReportBody);

const REPORT_BODY = fastFields(
  'type',
  'nodeId',
  'nonce',
  'issuedAtMs',
  'receipt',
  'request',
  'result',
  'context',
);
const TENSORS_REQUEST = fastFields('kind', 'modelName', 'modelVersion', 'inputs');
const DIGESTS_REQUEST = fastFields('kind', 'modelName', 'modelVersion');
const TENSORS_RESULT = fastFields('kind', 'outputs');
const DIGESTS_RESULT = fastFields('kind');
const TENSOR = fastFields('name', 'datatype', 'shape', 'data');
const CONTEXT = fastFields('traceparent', 'priority', 'deadlineMs');
const NONCE_PATTERN = /^[A-Za-z0-9_-]{22,64}$/;
/** tensorSchema's bounds in oracle-reports.ts. */
const MAX_SHAPE_DIMS = 16;
const MAX_TENSOR_VALUES = 1_000_000;
const MAX_TENSORS = 64;

function isFastReceiptReportBody(b: unknown): boolean {
  return (
    isPlainWith(b, REPORT_BODY) &&
    b.type === 'receipt' &&
    NODE_IDS.test(b.nodeId) &&
    isMatch(b.nonce, NONCE_PATTERN) &&
    isNonNegativeInt(b.issuedAtMs) &&
    isFastSigned(b.receipt, isFastReceiptBody) &&
    isFastRequest(b.request) &&
    isFastResult(b.result) &&
    (b.context === undefined || isFastContext(b.context))
  );
}

function isFastRequest(r: unknown): boolean {
  const kind = (r as { kind?: unknown } | null)?.kind;
  if (kind === 'tensors') {
    if (!isPlainWith(r, TENSORS_REQUEST) || !isFastTensors(r.inputs)) return false;
  } else if (kind === 'digests') {
    if (!isPlainWith(r, DIGESTS_REQUEST)) return false;
  } else return false; // 'domain' (z.unknown input) and anything else: zod decides.
  return isStringWithin(r.modelName, 1, 128) && isStringWithin(r.modelVersion, 1, 64);
}

function isFastResult(r: unknown): boolean {
  const kind = (r as { kind?: unknown } | null)?.kind;
  if (kind === 'tensors') return isPlainWith(r, TENSORS_RESULT) && isFastTensors(r.outputs);
  return kind === 'digests' && isPlainWith(r, DIGESTS_RESULT);
}

function isFastTensors(list: unknown): boolean {
  if (!Array.isArray(list) || list.length < 1 || list.length > MAX_TENSORS) return false;
  for (let i = 0; i < list.length; i++) {
    const t: unknown = list[i];
    if (
      !isPlainWith(t, TENSOR) ||
      !isStringWithin(t.name, 1, 256) ||
      typeof t.datatype !== 'string' ||
      !Object.hasOwn(TENSOR_DATATYPES, t.datatype)
    )
      return false;
    const { shape, data } = t;
    if (!Array.isArray(shape) || shape.length > MAX_SHAPE_DIMS) return false;
    for (let k = 0; k < shape.length; k++) if (!isNonNegativeInt(shape[k])) return false;
    if (!Array.isArray(data) || data.length > MAX_TENSOR_VALUES) return false;
    for (let k = 0; k < data.length; k++) {
      const v: unknown = data[k];
      if (typeof v === 'number' ? !Number.isFinite(v) : typeof v !== 'string' && typeof v !== 'boolean')
        return false;
    }
  }
  return true;
}

function isFastContext(c: unknown): boolean {
  return (
    isPlainWith(c, CONTEXT) &&
    (c.traceparent === undefined || isStringWithin(c.traceparent, 0, MAX_TRACEPARENT_CHARS)) &&
    (c.priority === undefined || (PRIORITIES as readonly unknown[]).includes(c.priority)) &&
    (c.deadlineMs === undefined || (isNonNegativeInt(c.deadlineMs, MAX_DEADLINE_MS) && c.deadlineMs > 0))
  );
}
