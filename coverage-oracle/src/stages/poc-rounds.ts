import { cellToParent } from 'h3-js';
import type { OracleDirectory } from '../directory.ts';
import type { BeaconReportBody, WitnessReportBody } from '@hexedge/protocol';
import type { Hotspot, WitnessReport } from '../poc/types.ts';
import { verifyPocRound } from '../poc/verify-round.ts';
import type { OracleStore } from '../store/oracle-store.ts';
import type { CoverageObservation, PendingRound, Verdict } from '../store/records.ts';
import { COVERAGE_RESOLUTION } from '../coverage/coverage-map.ts';

/**
 * Judges one closed round from the stored reports: the first beacon with this data and every witness
 * of it. Verdicts are timed at the beacon's arrival so they fall in the epoch the beacon did.
 */
export function judgeRound(options: {
  round: PendingRound;
  store: OracleStore;
  directory: OracleDirectory;
  densityScales: ReadonlyMap<string, number>;
  denylist?: ReadonlySet<string>;
  nowMs: number;
}): { verdicts: Verdict[]; coverage: CoverageObservation[] } {
  const { round, store, directory } = options;
  const reports = store.listRoundReports(round.roundKey);
  const beaconReport = reports.find((r) => r.seq === round.beaconSeq);
  if (!beaconReport) return { verdicts: [], coverage: [] };
  const body = beaconReport.body as BeaconReportBody;
  const witnessReports = reports.filter((r) => r.type === 'witness');
  const witnesses: WitnessReport[] = witnessReports.map((r) => {
    const w = (r.body as WitnessReportBody).witness;
    return {
      key: r.nodeId,
      receivedAtMs: r.receivedAtMs,
      data: w.data,
      frequencyHz: w.frequencyHz,
      signalDbm: w.signalDbm,
      snrDb: w.snrDb,
      datarate: w.datarate,
    };
  });
  const hotspots = new Map<string, Hotspot>();
  for (const key of [beaconReport.nodeId, ...witnesses.map((w) => w.key)]) {
    const h = directory.getHotspot(key);
    if (h) hotspots.set(key, h);
  }
  // Unknown entropy can never have been valid: −∞ puts every arrival past its lifespan.
  const entropyStartMs = store.getEntropy(body.entropyId)?.startMs ?? Number.NEGATIVE_INFINITY;
  const lastBeaconAtMs = store.getLastBeaconAtMs(beaconReport.nodeId);
  const result = verifyPocRound({
    beacon: { key: beaconReport.nodeId, receivedAtMs: beaconReport.receivedAtMs, ...body.beacon },
    witnesses,
    hotspots,
    ...(options.denylist ? { denylist: options.denylist } : {}),
    ...(lastBeaconAtMs !== undefined ? { lastBeaconAtMs } : {}),
    entropyStartMs,
    nowMs: options.nowMs,
    densityScales: options.densityScales,
  });
  if (result.beacon.status === 'valid')
    store.setLastBeaconAtMs(beaconReport.nodeId, beaconReport.receivedAtMs);

  const atMs = beaconReport.receivedAtMs;
  const verdicts: Verdict[] = [
    {
      id: `poc:${beaconReport.seq}`,
      nodeId: beaconReport.nodeId,
      kind: 'poc-beacon',
      status: result.beacon.status,
      ...(result.beacon.reason ? { reason: result.beacon.reason } : {}),
      atMs,
      rewardUnit: result.beaconRewardUnit,
      hexScale: result.hexScale,
      details: { roundKey: round.roundKey, witnesses: witnesses.length },
    },
  ];
  const coverage: CoverageObservation[] = [];
  // verifyPocRound sorts by arrival; match verdicts back to their reports by key and time.
  const pending = [...witnessReports];
  for (const v of result.witnesses) {
    const i = pending.findIndex((r) => r.nodeId === v.key && r.receivedAtMs === v.receivedAtMs);
    const report = pending.splice(i, 1)[0]!;
    verdicts.push({
      id: `poc:${report.seq}`,
      nodeId: v.key,
      kind: 'poc-witness',
      status: v.status,
      ...(v.reason ? { reason: v.reason } : {}),
      atMs,
      rewardUnit: v.rewardUnit,
      hexScale: result.hexScale,
      details: {
        roundKey: round.roundKey,
        beaconer: beaconReport.nodeId,
        side: v.side ?? null,
        selected: v.selected,
      },
    });
    const cell = hotspots.get(v.key)?.cell;
    if (v.status === 'valid' && cell) {
      const w = (report.body as WitnessReportBody).witness;
      // The beaconer's signal reached the witness's hex: that hex is covered by the beaconer.
      coverage.push({
        cell: cellToParent(cell, COVERAGE_RESOLUTION),
        nodeId: beaconReport.nodeId,
        source: 'poc',
        signalDbm: w.signalDbm,
        snrDb: w.snrDb,
        atMs,
      });
    }
  }
  return { verdicts, coverage };
}
