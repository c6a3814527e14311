import { cellToChildren, cellToParent, getResolution, isValidCell, latLngToCell } from 'h3-js';
import { HexEdgeError, toLatLng, type LatLng } from '@hexedge/protocol';
import type { CoverageObservation } from '../store/records.ts';

/** Coverage is kept per res-8 hex (~0.7 km², a few hundred metres across): finer than a LoRa link is meaningful. */
export const COVERAGE_RESOLUTION = 8;
/** A coarse query (res < 8) may span at most this many res-8 hexes (res 5 = 343). */
const MAX_QUERY_CELLS = 343;

export interface CoveringNode {
  nodeId: string;
  sources: Array<CoverageObservation['source']>;
  observations: number;
  bestSignalDbm?: number;
  meanSignalDbm?: number;
  bestSnrDb?: number;
  minLatencyMs?: number;
  lastSeenAtMs: number;
}

/** What `/v1/coverage` answers for one hex. */
export interface CoverageCell {
  cell: string;
  nodes: CoveringNode[];
}

interface Aggregate {
  sources: Set<CoverageObservation['source']>;
  observations: number;
  signalCount: number;
  signalSum: number;
  bestSignalDbm?: number;
  bestSnrDb?: number;
  minLatencyMs?: number;
  lastSeenAtMs: number;
}

/**
 * Which nodes cover each hex and how well: radio evidence (valid PoC witnesses, GPS-tagged uplinks
 * heard by hotspots) and latency evidence (proofs of location). Built from observations, so it can be
 * rebuilt from the store at start-up.
 */
export class CoverageMap {
  readonly #cells = new Map<string, Map<string, Aggregate>>();

  add(observations: readonly CoverageObservation[]): void {
    for (const o of observations) {
      if (!isValidCell(o.cell)) continue;
      const cell = getResolution(o.cell) > COVERAGE_RESOLUTION ? cellToParent(o.cell, COVERAGE_RESOLUTION) : o.cell;
      let byNode = this.#cells.get(cell);
      if (!byNode) this.#cells.set(cell, (byNode = new Map()));
      let agg = byNode.get(o.nodeId);
      if (!agg) byNode.set(o.nodeId, (agg = { sources: new Set(), observations: 0, signalCount: 0, signalSum: 0, lastSeenAtMs: o.atMs }));
      agg.sources.add(o.source);
      agg.observations++;
      agg.lastSeenAtMs = Math.max(agg.lastSeenAtMs, o.atMs);
      if (o.signalDbm !== undefined) {
        agg.signalCount++;
        agg.signalSum += o.signalDbm;
        agg.bestSignalDbm = Math.max(agg.bestSignalDbm ?? -Infinity, o.signalDbm);
      }
      if (o.snrDb !== undefined) agg.bestSnrDb = Math.max(agg.bestSnrDb ?? -Infinity, o.snrDb);
      if (o.latencyMs !== undefined) agg.minLatencyMs = Math.min(agg.minLatencyMs ?? Infinity, o.latencyMs);
    }
  }

  /** Coverage of a hex (any resolution: finer ones map to their res-8 parent, coarser ones to their res-8 children) or of a point. */
  query(where: { cell: string } | LatLng): CoverageCell[] {
    let cells: string[];
    if ('cell' in where) {
      if (!isValidCell(where.cell)) throw new HexEdgeError('INVALID_CELL', `not a valid H3 cell: ${JSON.stringify(where.cell)}`);
      const res = getResolution(where.cell);
      if (res >= COVERAGE_RESOLUTION) cells = [cellToParent(where.cell, COVERAGE_RESOLUTION)];
      else if (COVERAGE_RESOLUTION - res > 3) {
        throw new HexEdgeError('INVALID_CELL', `cell ${where.cell} (res ${res}) spans more than ${MAX_QUERY_CELLS} coverage hexes; ask at res ≥ 5`);
      } else cells = cellToChildren(where.cell, COVERAGE_RESOLUTION);
    } else {
      const p = toLatLng(where);
      cells = [latLngToCell(p.lat, p.lng, COVERAGE_RESOLUTION)];
    }
    return cells.filter((c) => this.#cells.has(c)).sort().map((c) => this.#cellView(c));
  }

  /** Every covered hex, for the network map. */
  cells(): CoverageCell[] {
    return [...this.#cells.keys()].sort().map((c) => this.#cellView(c));
  }

  #cellView(cell: string): CoverageCell {
    const nodes = [...this.#cells.get(cell)!.entries()]
      .map(([nodeId, a]): CoveringNode => ({
        nodeId,
        sources: [...a.sources].sort(),
        observations: a.observations,
        ...(a.bestSignalDbm !== undefined ? { bestSignalDbm: a.bestSignalDbm, meanSignalDbm: Math.round((a.signalSum / a.signalCount) * 10) / 10 } : {}),
        ...(a.bestSnrDb !== undefined ? { bestSnrDb: a.bestSnrDb } : {}),
        ...(a.minLatencyMs !== undefined ? { minLatencyMs: a.minLatencyMs } : {}),
        lastSeenAtMs: a.lastSeenAtMs,
      }))
      .sort((a, b) => (b.bestSignalDbm ?? -Infinity) - (a.bestSignalDbm ?? -Infinity) || (a.nodeId < b.nodeId ? -1 : 1));
    return { cell, nodes };
  }
}
