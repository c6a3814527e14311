import {
  greatCircleDistanceKm,
  h3CellToLatLng,
  toH3Cell,
  type Hardware,
  type LatLng,
  type ModelManifest,
} from '@hexedge/protocol';
import type { DemandTotal } from './demand.ts';
import { DEFAULT_SERVICE_MS, maxDistanceKmForRttMs } from './latency.ts';
import { CPU_PROVIDERS } from './node-record.ts';
import {
  MODEL_MEMORY_PER_FILE_BYTE,
  NODE_MEMORY_SHARE_FOR_MODELS,
  PLANNER_TARGET_LATENCY_MS,
  type PlanShortfall,
} from './planner.ts';

/** A model a joining node should pull, and why (shown to the operator as the node pulls it). */
export interface JoiningModel {
  name: string;
  version: string;
  contentId: string;
  sizeBytes: number;
  reason: string;
}

/** Most models one answer lists: a first run pulls what fits, and the heartbeat's plan takes over after. */
export const MAX_JOINING_MODELS = 16;

/** How far from a joining node a shortfall or demand counts as its own (the latency target's reach). */
export const joiningReachKm = (targetLatencyMs = PLANNER_TARGET_LATENCY_MS): number =>
  maxDistanceKmForRttMs(targetLatencyMs - DEFAULT_SERVICE_MS);

/**
 * The models a node joining at `location` should pull before it registers, best first: the planner's
 * shortfalls within the latency target of the node (a hex with demand but too few holders), then models
 * in demand nearby, then anything else in the origin catalogue, each only if the node's memory budget
 * (the planner's share, at the planner's resident-size factor) still holds it and, for a model that
 * prefers an accelerator, only on a node that has one. Only models the catalogue has are listed: a
 * node can pull nothing else.
 */
export function modelsForJoiningNode(options: {
  location: LatLng;
  hardware: Pick<Hardware, 'memoryMb' | 'executionProviders'>;
  catalogue: readonly ModelManifest[];
  shortfalls: readonly PlanShortfall[];
  demand: readonly DemandTotal[];
  targetLatencyMs?: number;
}): JoiningModel[] {
  const reachKm = joiningReachKm(options.targetLatencyMs);
  const near = (cell: string) =>
    greatCircleDistanceKm(options.location, h3CellToLatLng(toH3Cell(cell))) <= reachKm;
  const hasAccelerator = options.hardware.executionProviders.some((ep) => !CPU_PROVIDERS.has(ep));
  let budgetBytes = options.hardware.memoryMb * 2 ** 20 * NODE_MEMORY_SHARE_FOR_MODELS;
  const picked = new Map<string, JoiningModel>();
  const consider = (manifest: ModelManifest | undefined, reason: string) => {
    if (!manifest || picked.has(manifest.contentId) || picked.size >= MAX_JOINING_MODELS) return;
    if (manifest.prefersAccelerator && !hasAccelerator) return;
    const residentBytes = manifest.sizeBytes * MODEL_MEMORY_PER_FILE_BYTE;
    if (residentBytes > budgetBytes) return;
    budgetBytes -= residentBytes;
    picked.set(manifest.contentId, {
      name: manifest.name,
      version: manifest.version,
      contentId: manifest.contentId,
      sizeBytes: manifest.sizeBytes,
      reason,
    });
  };
  // The newest version of a name when the shortfall or demand does not say which.
  const find = (name: string, version: string) =>
    options.catalogue.find((m) => m.name === name && m.version === version) ??
    (version === '' ? options.catalogue.filter((m) => m.name === name).at(-1) : undefined);

  for (const s of [...options.shortfalls]
    .filter((s) => near(s.cell))
    .sort((a, b) => b.wanted - b.replicas - (a.wanted - a.replicas))) {
    consider(find(s.model, s.version), `too few holders near ${s.cell} (${s.replicas} of ${s.wanted})`);
  }
  const nearby = new Map<string, number>();
  for (const d of options.demand)
    if (near(d.cell))
      nearby.set(`${d.model}\u0000${d.version}`, (nearby.get(`${d.model}\u0000${d.version}`) ?? 0) + d.count);
  for (const [key, count] of [...nearby].sort((a, b) => b[1] - a[1])) {
    const [model, version] = key.split('\u0000') as [string, string];
    consider(find(model, version), `${count} requests nearby in the last 15 minutes`);
  }
  // Smallest first: a node with little memory still gets something to serve.
  for (const m of [...options.catalogue].sort((a, b) => a.sizeBytes - b.sizeBytes))
    consider(m, 'in the origin catalogue');
  return [...picked.values()];
}
