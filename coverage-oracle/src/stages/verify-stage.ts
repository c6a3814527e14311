import { greatCircleDistanceKm, h3CellToLatLng, latLngToH3Cell } from '@hexedge/protocol';
import type { OracleDirectory } from '../directory.ts';
import type { NodeFaultReportBody, UplinkReportBody } from '@hexedge/protocol';
import type { CoverageMap } from '../coverage/coverage-map.ts';
import { COVERAGE_RESOLUTION } from '../coverage/coverage-map.ts';
import { MAX_WITNESS_DISTANCE_KM } from '../poc/constants.ts';
import { computeHexDensityScales } from '../poc/hex-density.ts';
import type { JudgedBatch, OracleStore } from '../store/oracle-store.ts';
import type { CoverageObservation, StoredReport, Verdict, WorkRecord } from '../store/records.ts';
import { HandedReports } from './handed-reports.ts';
import { handleLocationReport } from './location-reports.ts';
import { judgeRound } from './poc-rounds.ts';
import { handleReceiptReport, type ReceiptCheckDeps } from './receipt-checks.ts';
import type { Stage } from './stage.ts';

/**
 * A beacon's round is judged this long after the beacon arrived: witnesses may trail it by 4 s at
 * the oracle, plus ingest queues and retries. Later witnesses are simply not part of the round.
 */
export const DEFAULT_ROUND_CLOSE_DELAY_MS = 30_000;

export interface VerifyStageOptions extends Omit<ReceiptCheckDeps, 'directory'> {
  store: OracleStore;
  directory: OracleDirectory;
  coverage: CoverageMap;
  batchSize?: number;
  roundCloseDelayMs?: number;
  minChallengers?: number;
  verifiedWithinKm?: number;
  minTightChallengers?: number;
  /** The oracle's own id: its own probes need no corroboration. */
  oracleId?: string;
  denylist?: () => ReadonlySet<string>;
  /** HIP-17 scales; default: recomputed from the directory's hotspots whenever rounds close. */
  densityScales?: () => ReadonlyMap<string, number>;
  /** Reports held in memory at most from ingest's hand-off (DEFAULT_MAX_HANDED_REPORTS). */
  maxHandedReports?: number;
}

/**
 * Verify: reads accepted reports in arrival order (a durable cursor, so a restart resumes where it
 * stopped), judges them, and stores verdicts, work and coverage. Closed PoC rounds are judged as
 * they fall due. Everything judged is data; only store or transport faults throw.
 */
export class VerifyStage implements Stage {
  readonly name = 'verify';
  readonly #o: VerifyStageOptions;
  /** What ingest just committed, so the stage judges it without reading it back (the store stays the truth). */
  readonly handed: HandedReports;

  constructor(options: VerifyStageOptions) {
    this.#o = options;
    this.handed = new HandedReports(
      options.maxHandedReports !== undefined ? { maxReports: options.maxHandedReports } : {},
    );
  }

  /** Ingest's durable commits, in seq order (IngestOptions.onCommitted). */
  handOff(stored: readonly StoredReport[]): void {
    this.handed.offer(stored);
  }

  async tick(nowMs: number): Promise<number> {
    const { store, batchSize = 256 } = this.#o;
    // The cursor is read from the store each tick: it alone says what was judged, whatever memory holds.
    const after = store.getCursor(this.name);
    const reports =
      this.handed.take(after, batchSize) ?? store.listReports({ afterSeq: after, limit: batchSize });
    const verdicts: Verdict[] = [];
    const work: WorkRecord[] = [];
    const coverage: CoverageObservation[] = [];
    await Promise.all(reports.map((r) => this.#handle(r, { verdicts, work, coverage })));
    // What was judged and the cursor past it commit together: a crash re-judges, never skips or half-keeps.
    if (reports.length)
      this.#commit({ verdicts, work, coverage, cursor: { stage: this.name, seq: reports.at(-1)!.seq } });

    const due = store.listDueRounds({ nowMs, limit: batchSize });
    if (due.length) {
      const densityScales =
        this.#o.densityScales?.() ??
        computeHexDensityScales(this.#o.directory.listHotspots().flatMap((h) => (h.cell ? [h.cell] : [])));
      const denylist = this.#o.denylist?.();
      for (const round of due) {
        const judged = judgeRound({
          round,
          store,
          directory: this.#o.directory,
          densityScales,
          ...(denylist ? { denylist } : {}),
          nowMs,
        });
        this.#commit({
          verdicts: judged.verdicts,
          work: [],
          coverage: judged.coverage,
          closeRound: round.roundKey,
        });
      }
    }
    return reports.length + due.length;
  }

  #commit(batch: JudgedBatch): void {
    this.#o.store.commitJudged(batch);
    if (batch.coverage.length) this.#o.coverage.add(batch.coverage);
  }

  async #handle(
    report: StoredReport,
    out: { verdicts: Verdict[]; work: WorkRecord[]; coverage: CoverageObservation[] },
  ): Promise<void> {
    const o = this.#o;
    switch (report.type) {
      case 'beacon':
        o.store.openRound({
          roundKey: report.roundKey!,
          beaconSeq: report.seq,
          closesAtMs: report.receivedAtMs + (o.roundCloseDelayMs ?? DEFAULT_ROUND_CLOSE_DELAY_MS),
        });
        return;
      case 'witness':
        return; // judged with its beacon's round
      case 'receipt': {
        const { work, verdicts } = await handleReceiptReport(report, o);
        out.work.push(work);
        out.verdicts.push(...verdicts);
        return;
      }
      case 'location': {
        const { verdicts, coverage } = await handleLocationReport(report, {
          store: o.store,
          directory: o.directory,
          minChallengers: o.minChallengers ?? 3,
          ...(o.verifiedWithinKm ? { verifiedWithinKm: o.verifiedWithinKm } : {}),
          ...(o.minTightChallengers ? { minTightChallengers: o.minTightChallengers } : {}),
          ...(o.oracleId ? { oracleId: o.oracleId } : {}),
        });
        out.verdicts.push(...verdicts);
        out.coverage.push(...coverage);
        return;
      }
      case 'uplink':
        out.coverage.push(...this.#uplinkCoverage(report));
        return;
      case 'node-fault':
        out.verdicts.push(nodeFaultVerdict(report));
        return;
    }
  }

  /** A GPS-tagged uplink confirms coverage of its hex by each asserted hotspot that could have heard it. */
  #uplinkCoverage(report: StoredReport): CoverageObservation[] {
    const { location, heardBy } = (report.body as UplinkReportBody).uplink;
    const cell = latLngToH3Cell(location, COVERAGE_RESOLUTION);
    return heardBy.flatMap((h) => {
      const hotspot = this.#o.directory.getHotspot(h.hotspotKey);
      if (
        !hotspot?.cell ||
        greatCircleDistanceKm(h3CellToLatLng(hotspot.cell), location) > MAX_WITNESS_DISTANCE_KM
      )
        return [];
      return [
        {
          cell,
          nodeId: h.hotspotKey,
          source: 'uplink' as const,
          signalDbm: h.signalDbm,
          snrDb: h.snrDb,
          atMs: report.receivedAtMs,
        },
      ];
    });
  }
}

/** A gateway's node-fault report, kept as the faulty node's verdict with the gateway's observation as evidence. */
function nodeFaultVerdict(report: StoredReport): Verdict {
  const body = report.body as NodeFaultReportBody;
  return {
    id: `fault:${report.seq}`,
    nodeId: body.targetNodeId,
    kind: 'node-fault',
    status: 'fault',
    reason: body.fault.kind,
    atMs: report.receivedAtMs,
    details: { reporterId: body.nodeId, ...body.fault },
  };
}
