import { greatCircleDistanceKm, h3CellToLatLng, toH3Cell, type LatLng } from '@hexedge/protocol';
import type { DemandTotal } from './demand.ts';

/**
 * A demand snapshot (DemandWindow.totals()) grouped by hex, each hex's centre computed once, so "the
 * demand within reach of this place" costs one distance per hex with demand (at most the 41 162 res-3
 * hexes) instead of re-summing, re-sorting and re-locating every (hex, model) row of the window per
 * question: a public, unauthenticated desired-models request did that, ~300 ms for 123 000 rows.
 */
export class DemandNear {
  readonly totals: readonly DemandTotal[];
  readonly #cells: { lat: number; lng: number; rows: number[] }[] = [];

  constructor(totals: readonly DemandTotal[]) {
    this.totals = totals;
    const byCell = new Map<string, number[]>();
    totals.forEach((t, i) => {
      const rows = byCell.get(t.cell);
      if (rows) rows.push(i);
      else byCell.set(t.cell, [i]);
    });
    for (const [cell, rows] of byCell) this.#cells.push({ ...h3CellToLatLng(toH3Cell(cell)), rows });
  }

  /** The rows whose hex centre is within `reachKm` of `at`, in the snapshot's order (busiest first). */
  near(at: LatLng, reachKm: number): DemandTotal[] {
    const rows: number[] = [];
    for (const c of this.#cells)
      if (greatCircleDistanceKm(at, c) <= reachKm) for (const row of c.rows) rows.push(row);
    return rows.sort((a, b) => a - b).map((i) => this.totals[i]!);
  }
}
