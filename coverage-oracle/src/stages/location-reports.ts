import { isValidSignature, latLngToH3Cell } from '@hexedge/protocol';
import type { OracleDirectory } from '../directory.ts';
import type { LocationReportBody } from '@hexedge/protocol';
import { combineLocationObservations, type LatencyObservation } from '../location/combine.ts';
import type { OracleStore } from '../store/oracle-store.ts';
import type { CoverageObservation, StoredReport, Verdict } from '../store/records.ts';
import { COVERAGE_RESOLUTION } from '../coverage/coverage-map.ts';

/** Challenges within this window of each other are combined into one location verdict. */
export const LOCATION_WINDOW_MS = 10 * 60_000;
/**
 * A target's newest location reports read per verdict: far more than the window holds from honest
 * challengers (one each per challenge interval), and a bound on a hot path that otherwise read the
 * target's whole history on every report.
 */
export const MAX_LOCATION_REPORTS_READ = 512;

/** An answer counts only when it is the target's signature over this challenger's nonce. */
async function isAnswered(report: StoredReport): Promise<boolean> {
  const body = report.body as LocationReportBody;
  const response = body.response;
  if (!body.answered || !response || body.rttMs === undefined) return false;
  if (response.body.nodeId !== body.targetNodeId || response.body.challengerId !== body.nodeId) return false;
  return isValidSignature('challenge-response', response);
}

/**
 * A challenger's report is an availability probe of the target; together with the window's other
 * challengers' reports it is a latency proof of location, judged against the claim in the directory.
 */
export async function handleLocationReport(
  report: StoredReport,
  deps: { store: OracleStore; directory: OracleDirectory; minChallengers: number; verifiedWithinKm?: number },
): Promise<{ verdicts: Verdict[]; coverage: CoverageObservation[] }> {
  const body = report.body as LocationReportBody;
  const answered = await isAnswered(report);
  const verdicts: Verdict[] = [
    {
      id: `avail:${report.seq}`,
      nodeId: body.targetNodeId,
      kind: 'availability',
      status: answered ? 'up' : 'down',
      ...(answered ? {} : { reason: 'NO_VALID_ANSWER' }),
      atMs: report.receivedAtMs,
      details: { challengerId: body.nodeId },
    },
  ];
  const claim = deps.directory.getNode(body.targetNodeId);
  if (!answered || !claim) return { verdicts, coverage: [] };

  // The latest answered exchange per challenger in the window; the challenger's place is what the directory knows, never what it says.
  const sinceMs = report.receivedAtMs - LOCATION_WINDOW_MS;
  const latest = new Map<string, LatencyObservation>();
  for (const r of deps.store.listRoundReports(`loc:${body.targetNodeId}`, { limit: MAX_LOCATION_REPORTS_READ })) {
    if (r.receivedAtMs < sinceMs || r.receivedAtMs > report.receivedAtMs || !(await isAnswered(r))) continue;
    const location = deps.directory.getReporter(r.nodeId)?.location;
    if (location)
      latest.set(r.nodeId, {
        challengerId: r.nodeId,
        challengerLocation: location,
        rttMs: (r.body as LocationReportBody).rttMs!,
      });
  }
  const verdict = combineLocationObservations({
    claim: claim.location,
    observations: [...latest.values()],
    minChallengers: deps.minChallengers,
    ...(deps.verifiedWithinKm ? { verifiedWithinKm: deps.verifiedWithinKm } : {}),
  });
  if (verdict.status === 'inconclusive' && verdict.reason === 'TOO_FEW_CHALLENGERS')
    return { verdicts, coverage: [] };
  verdicts.push({
    id: `loc:${body.targetNodeId}:${Math.floor(report.receivedAtMs / LOCATION_WINDOW_MS)}`,
    nodeId: body.targetNodeId,
    kind: 'location',
    status: verdict.status,
    reason: verdict.reason,
    atMs: report.receivedAtMs,
    details: {
      locationTrust: verdict.locationTrust,
      uncertaintyKm: verdict.uncertaintyKm ?? null,
      estimate: verdict.estimate ?? null,
      consistentChallengers: verdict.consistentChallengers,
      outlierChallengers: verdict.outlierChallengers,
    },
  });
  const coverage: CoverageObservation[] =
    verdict.status === 'verified'
      ? [
          {
            cell: latLngToH3Cell(claim.location, COVERAGE_RESOLUTION),
            nodeId: body.targetNodeId,
            source: 'latency',
            latencyMs: Math.min(...[...latest.values()].map((o) => o.rttMs)) / 2,
            atMs: report.receivedAtMs,
          },
        ]
      : [];
  return { verdicts, coverage };
}
