import { greatCircleDistanceKm, isValidSignature, latLngToH3Cell, type LatLng } from '@hexedge/protocol';
import type { ClaimedNode, KnownReporter, OracleDirectory } from '../directory.ts';
import type { LocationReportBody } from '@hexedge/protocol';
import {
  combineLocationObservations,
  type LatencyObservation,
  type LocationVerdict,
} from '../location/combine.ts';
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

/** The claim a verdict judged: the place, and when the node claimed it (a new claim is a new claim). */
export const claimOf = (node: ClaimedNode) => ({
  lat: node.location.lat,
  lng: node.location.lng,
  ...(node.claimedAtMs !== undefined ? { claimedAtMs: node.claimedAtMs } : {}),
});

export interface LocationDeps {
  store: OracleStore;
  directory: OracleDirectory;
  minChallengers: number;
  verifiedWithinKm?: number;
  minTightChallengers?: number;
  /** The oracle's own id: its probes need no corroboration. */
  oracleId?: string;
}

/** Whether the oracle's own probe of this challenger, in the window before its report, was answered. */
async function isReachedByOracle(report: StoredReport, deps: LocationDeps): Promise<boolean> {
  if (!deps.oracleId) return false;
  const sinceMs = report.receivedAtMs - LOCATION_WINDOW_MS;
  for (const r of deps.store.listRoundReports(`loc:${report.nodeId}`)) {
    if (
      r.nodeId === deps.oracleId &&
      r.receivedAtMs >= sinceMs &&
      r.receivedAtMs <= report.receivedAtMs &&
      (await isAnswered(r))
    )
      return true;
  }
  return false;
}

/**
 * A challenger's report is an availability probe of the target; together with the window's other
 * challengers' reports it is a latency proof of location, judged against the claim in the directory
 * and naming that claim, so a verdict on one place never verifies another. Challengers whose bound
 * the majority contradicts get a `challenger` verdict against them (and lose standing).
 */
/** An anchor's claim this close to its surveyed place is its surveyed place (GPS and survey slack). */
export const ANCHOR_CLAIM_SLACK_KM = 10;

/**
 * The operator's anchors are the network's trust roots: their places are surveyed (oracle config), not
 * proven by challengers who need verified places themselves. An anchor whose claim is its surveyed
 * place, and whose round trips do not make that impossible, is verified (reason SURVEYED_ANCHOR);
 * one that claims elsewhere, or whose round trips contradict its place, is judged like any node.
 */
function asSurveyedAnchor(
  verdict: LocationVerdict,
  o: { claim: LatLng; surveyed: KnownReporter | undefined },
): LocationVerdict {
  const surveyed =
    o.surveyed?.trusted && o.surveyed.roles.includes('challenger') ? o.surveyed.location : undefined;
  // TOO_FEW_CHALLENGERS stays as it is: a surveyed place still needs round trips that allow it.
  if (
    !surveyed ||
    verdict.status === 'verified' ||
    verdict.status === 'impossible' ||
    verdict.reason === 'TOO_FEW_CHALLENGERS'
  )
    return verdict;
  if (greatCircleDistanceKm(surveyed, o.claim) > ANCHOR_CLAIM_SLACK_KM) return verdict;
  return {
    ...verdict,
    status: 'verified',
    reason: 'SURVEYED_ANCHOR',
    locationTrust: Math.max(verdict.locationTrust, 0.9),
  };
}

/**
 * A challenger's report as an availability probe of its target: answered is up; "not answered" is
 * down when it counts: the oracle's and configured challengers' always do, a node challenger's only
 * when the oracle's own probe of that challenger, in the window, was answered (a challenger that
 * cannot be reached itself proves nothing about whether it reached the target).
 */
export function availabilityStatusOf(o: {
  answered: boolean;
  /** The oracle itself or a configured (trusted) challenger. */
  byAuthority: boolean;
  reporterReachedByOracle: boolean;
}): { status: 'up' | 'down' | 'inconclusive'; reason?: string } {
  if (o.answered) return { status: 'up' };
  return o.byAuthority || o.reporterReachedByOracle
    ? { status: 'down', reason: 'NO_VALID_ANSWER' }
    : { status: 'inconclusive', reason: 'CHALLENGER_NOT_CORROBORATED' };
}

/**
 * The verdicts of one location window: the claim judged by the challengers' combined bounds (naming
 * the claim, so a verdict on one place never verifies another; a surveyed anchor at its place is
 * verified), and, when there is a majority to judge by, a `challenger` verdict for every judged node
 * challenger (`CONTRADICTED_MAJORITY` takes its standing away). Undefined with too few challengers.
 */
export function judgeLocationWindow(o: {
  targetNodeId: string;
  claim: ClaimedNode;
  observations: readonly LatencyObservation[];
  minChallengers: number;
  verifiedWithinKm?: number;
  minTightChallengers?: number;
  surveyed?: KnownReporter | undefined;
  atMs: number;
  /** Node challengers are judged; the oracle and configured challengers are not. */
  isJudged: (challengerId: string) => boolean;
}): { verdict: LocationVerdict; verdicts: Verdict[] } | undefined {
  const { targetNodeId, claim, atMs } = o;
  const measured = combineLocationObservations({
    claim: claim.location,
    observations: o.observations,
    minChallengers: o.minChallengers,
    ...(o.verifiedWithinKm ? { verifiedWithinKm: o.verifiedWithinKm } : {}),
    ...(o.minTightChallengers ? { minTightChallengers: o.minTightChallengers } : {}),
  });
  const verdict = asSurveyedAnchor(measured, { claim: claim.location, surveyed: o.surveyed });
  if (verdict.status === 'inconclusive' && verdict.reason === 'TOO_FEW_CHALLENGERS') return undefined;
  const window = Math.floor(atMs / LOCATION_WINDOW_MS);
  const verdicts: Verdict[] = [
    {
      id: `loc:${targetNodeId}:${window}`,
      nodeId: targetNodeId,
      kind: 'location',
      status: verdict.status,
      reason: verdict.reason,
      atMs,
      details: {
        claim: claimOf(claim),
        locationTrust: verdict.locationTrust,
        uncertaintyKm: verdict.uncertaintyKm ?? null,
        estimate: verdict.estimate ?? null,
        consistentChallengers: verdict.consistentChallengers,
        outlierChallengers: verdict.outlierChallengers,
      },
    },
  ];
  if (verdict.status !== 'inconclusive') {
    // With a majority to judge by, every node challenger's report is judged too; configured ones are not.
    const judged = (ids: string[], status: 'valid' | 'invalid') =>
      ids.filter(o.isJudged).map((id): Verdict => ({
        id: `chal:${targetNodeId}:${window}:${id}`,
        nodeId: id,
        kind: 'challenger',
        status,
        reason: status === 'valid' ? 'AGREED_WITH_MAJORITY' : 'CONTRADICTED_MAJORITY',
        atMs,
        details: { targetNodeId, verdict: verdict.status },
      }));
    verdicts.push(
      ...judged(verdict.consistentChallengers, 'valid'),
      ...judged(verdict.outlierChallengers, 'invalid'),
    );
  }
  return { verdict, verdicts };
}

export async function handleLocationReport(
  report: StoredReport,
  deps: LocationDeps,
): Promise<{ verdicts: Verdict[]; coverage: CoverageObservation[] }> {
  const body = report.body as LocationReportBody;
  const answered = await isAnswered(report);
  const byAuthority = report.nodeId === deps.oracleId || !!deps.directory.getReporter(report.nodeId)?.trusted;
  const availability = availabilityStatusOf({
    answered,
    byAuthority,
    reporterReachedByOracle: !answered && !byAuthority && (await isReachedByOracle(report, deps)),
  });
  const verdicts: Verdict[] = [
    {
      id: `avail:${report.seq}`,
      nodeId: body.targetNodeId,
      kind: 'availability',
      ...availability,
      atMs: report.receivedAtMs,
      details: { challengerId: body.nodeId },
    },
  ];
  const claim = deps.directory.getNode(body.targetNodeId);
  if (!answered || !claim) return { verdicts, coverage: [] };

  // The latest answered exchange per challenger in the window; the challenger's place is what the directory knows, never what it says.
  // Reports from before the current claim was made judged the old one.
  const sinceMs = Math.max(
    report.receivedAtMs - LOCATION_WINDOW_MS,
    claim.claimedAtMs ?? Number.NEGATIVE_INFINITY,
  );
  const latest = new Map<string, LatencyObservation>();
  for (const r of deps.store.listRoundReports(`loc:${body.targetNodeId}`, {
    limit: MAX_LOCATION_REPORTS_READ,
  })) {
    if (r.receivedAtMs < sinceMs || r.receivedAtMs > report.receivedAtMs || !(await isAnswered(r))) continue;
    const location = deps.directory.getReporter(r.nodeId)?.location;
    if (location)
      latest.set(r.nodeId, {
        challengerId: r.nodeId,
        challengerLocation: location,
        rttMs: (r.body as LocationReportBody).rttMs!,
      });
  }
  const judged = judgeLocationWindow({
    targetNodeId: body.targetNodeId,
    claim,
    observations: [...latest.values()],
    minChallengers: deps.minChallengers,
    ...(deps.verifiedWithinKm ? { verifiedWithinKm: deps.verifiedWithinKm } : {}),
    ...(deps.minTightChallengers ? { minTightChallengers: deps.minTightChallengers } : {}),
    surveyed: deps.directory.getReporter(body.targetNodeId),
    atMs: report.receivedAtMs,
    isJudged: (id) => id !== deps.oracleId && !deps.directory.getReporter(id)?.trusted,
  });
  if (!judged) return { verdicts, coverage: [] };
  const { verdict } = judged;
  verdicts.push(...judged.verdicts);
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
