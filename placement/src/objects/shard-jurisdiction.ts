import { borders, feature } from '@rapideditor/country-coder';
import { POLYGON_TO_CELLS_FLAGS, polygonToCellsExperimental } from 'h3-js';
import { EU_SHARD_CELLS } from './eu-shard-cells.ts';
import { SHARD_RESOLUTION } from './shard-geometry.ts';

/** Durable Object jurisdictions a shard can be pinned to (Cloudflare's names). */
export type ShardJurisdiction = 'eu';

type Polygon = number[][][];
interface BorderFeature {
  properties: { id: string; members?: string[] };
  geometry: { type: 'Polygon'; coordinates: Polygon } | { type: 'MultiPolygon'; coordinates: Polygon[] } | null;
}

const cellsByRegion = new Map<string, ReadonlySet<string>>();

/** The leaf features (with geometry) that make up a country-coder region such as `eu`. */
function leafFeatures(id: string, byId: Map<string, BorderFeature>): BorderFeature[] {
  const f = byId.get(id);
  if (!f) return [];
  if (f.geometry) return [f];
  return (f.properties.members ?? []).flatMap((m) => leafFeatures(m, byId));
}

/**
 * Every shard cell that overlaps a region's borders (country-coder, the data placement's `regionsAt`
 * uses, territorial waters included): H3's "overlapping" containment keeps a cell when any part of it
 * touches a polygon. A shard straddling the EU border therefore lives in the EU and may also hold
 * non-EU nodes; no EU node is ever held outside it. For `eu` at res 2 that is 307 cells (mainland,
 * islands and the outermost regions: Canaries, Azores, Madeira, Réunion, Guiana, the Antilles…).
 */
export function regionShardCells(region: string, resolution = SHARD_RESOLUTION): ReadonlySet<string> {
  const key = `${region}/${resolution}`;
  let cells = cellsByRegion.get(key);
  if (cells) return cells;
  const id = feature(region)?.properties.id;
  const byId = new Map((borders.features as unknown as BorderFeature[]).map((f) => [f.properties.id, f]));
  const found = new Set<string>();
  for (const f of id ? leafFeatures(id, byId) : []) {
    const g = f.geometry!;
    for (const polygon of g.type === 'Polygon' ? [g.coordinates] : g.coordinates) {
      for (const cell of polygonToCellsExperimental(polygon, resolution, POLYGON_TO_CELLS_FLAGS.containmentOverlapping, true)) found.add(cell);
    }
  }
  cellsByRegion.set(key, (cells = found));
  return cells;
}

/**
 * The jurisdiction a shard's Durable Object is created in: `eu` for the cells in EU_SHARD_CELLS,
 * else none. The table is committed (computing it takes ~250 ms, too long for a Worker's cold start);
 * shard-jurisdiction.test.ts recomputes it from the border data.
 */
export function shardJurisdiction(cell: string): ShardJurisdiction | undefined {
  return EU_CELLS.has(cell) ? 'eu' : undefined;
}

const EU_CELLS: ReadonlySet<string> = new Set(EU_SHARD_CELLS);
