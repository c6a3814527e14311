import { z } from 'zod';
import { ERROR_CODES, type ErrorCode } from '../errors.ts';
import { MAX_REPORTS_PER_POST } from './oracle-reports.ts';

/**
 * Why a report was refused when the refusal is about its reporter, not the report: the reporter's key
 * is not in the oracle's directory (yet). A gateway the oracle has not read yet (started later,
 * restarted with a new report key) is told so, and may send the same reports again later; any other
 * refusal (bad signature, replayed, stale, malformed) is about the report itself and final.
 */
export const REPORTER_NOT_KNOWN = 'REPORTER_NOT_KNOWN' as const;
export const reportRefusalReasonSchema = z.enum([REPORTER_NOT_KNOWN]);
export type ReportRefusalReason = z.infer<typeof reportRefusalReasonSchema>;

const errorCodeSchema = z.enum(Object.keys(ERROR_CODES) as [ErrorCode, ...ErrorCode[]]);

/** One report's verdict at ingest, in the order the reports were posted. */
export const reportResultSchema = z.discriminatedUnion('accepted', [
  z.object({
    accepted: z.literal(true),
    seq: z.number().int().nonnegative(),
    type: z.string().min(1).max(32),
  }),
  z.object({
    accepted: z.literal(false),
    code: errorCodeSchema,
    message: z.string().max(2_000),
    /** Present when the refusal is about the reporter (see REPORTER_NOT_KNOWN). */
    reason: reportRefusalReasonSchema.optional(),
  }),
]);
export type ReportResult = z.infer<typeof reportResultSchema>;

/** The oracle's answer to a batch of reports (`POST /v1/oracle/reports` with an array, HTTP 202). */
export const reportsAnswerSchema = z.object({
  accepted: z.number().int().nonnegative(),
  results: z.array(reportResultSchema).max(MAX_REPORTS_PER_POST),
});
export type ReportsAnswer = z.infer<typeof reportsAnswerSchema>;

/** Whether a refusal means "this reporter is not known (yet)": the report itself may be sent again later. */
export function isReporterNotKnown(result: ReportResult | undefined): boolean {
  return result?.accepted === false && result.reason === REPORTER_NOT_KNOWN;
}
