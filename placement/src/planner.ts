import { h3CellToLatLng, type H3Cell, type LatLng, type NodeModel } from '@hexedge/protocol';
import type { DemandTotal } from './demand.ts';
import { DEFAULT_MODEL_SIZE_BYTES, DEFAULT_SERVICE_MS, maxDistanceKmForRttMs } from './latency.ts';
import { meetsAcceleratorNeed, type NodeRecord } from './node-record.ts';

/** Every hex with demand for a model should have this many holders within reach (one can fail). */
export const MIN_REPLICAS = 2;
/**
 * Latency the planner plans for. For a 20 ms model that leaves 5 ms of fibre round trip after the
 * last mile, so a replica within ~250 km of every demand hex: closer than a regional cloud zone.
 */
export const PLANNER_TARGET_LATENCY_MS = 35;
/** Replicas run at most half busy, so when one of two fails the other is not overrun. */
export const TARGET_UTILISATION = 0.5;
/** ONNX Runtime holds the weights plus its arena and activations: about twice the file size resident. */
export const MODEL_MEMORY_PER_FILE_BYTE = 2;
/** Share of a node's memory the planner fills with models; the rest is the OS, runtime and requests. */
export const NODE_MEMORY_SHARE_FOR_MODELS = 0.75;

export interface DesiredModel {
  name: string;
  version: string;
  contentId: string;
}

export interface PlanAssignment {
  nodeId: string;
  model: string;
  version: string;
  cell: string;
  reason: string;
}

export interface PlanShortfall {
  cell: string;
  model: string;
  version: string;
  replicas: number;
  wanted: number;
}

export interface Plan {
  desired: Map<string, DesiredModel[]>;
  assignments: PlanAssignment[];
  shortfalls: PlanShortfall[];
}

export interface PlanInput {
  demand: DemandTotal[];
  windowMs: number;
  /** Nodes the planner may give work to (healthy, not draining). */
  nodes: NodeRecord[];
  /** Those of `nodes` within `maxDistanceKm` of a point, nearest first. */
  nodesNear: (location: LatLng, maxDistanceKm: number) => NodeRecord[];
  targetLatencyMs?: number;
}

interface CatalogueEntry extends DesiredModel {
  sizeBytes: number;
  serviceMs: number;
  sample: NodeModel;
}

const keyOf = (name: string, version: string) => `${name}\u0000${version}`;
const memoryMbOf = (sizeBytes: number) => Math.ceil((sizeBytes * MODEL_MEMORY_PER_FILE_BYTE) / 2 ** 20);

/**
 * Which models each node should hold. Hottest (hex, model) first: count the nodes within the latency
 * target of the hex centre that hold (or are already told to hold) the model; while there are fewer than
 * the replicas its request rate needs (at least MIN_REPLICAS), tell the nearest node with room and the
 * right hardware to load it. A node keeps what it holds; a held model no demand has used so far in this
 * pass is dropped only to make room. Models no node announces cannot be planned (no content id).
 */
export function planModelPlacement(input: PlanInput): Plan {
  const targetMs = input.targetLatencyMs ?? PLANNER_TARGET_LATENCY_MS;
  const catalogue = buildCatalogue(input.nodes);
  const desired = new Map<string, Map<string, CatalogueEntry | DesiredModel>>();
  const usedMb = new Map<string, number>();
  const useful = new Set<string>();
  for (const node of input.nodes) {
    const held = new Map<string, CatalogueEntry | DesiredModel>();
    let mb = 0;
    for (const m of node.models) {
      held.set(keyOf(m.name, m.version), { name: m.name, version: m.version, contentId: m.contentId });
      mb += memoryMbOf(m.sizeBytes ?? DEFAULT_MODEL_SIZE_BYTES);
    }
    desired.set(node.id, held);
    usedMb.set(node.id, mb);
  }
  const assignments: PlanAssignment[] = [];
  const shortfalls: PlanShortfall[] = [];

  for (const demand of input.demand) {
    const entry = resolveEntry(catalogue, demand.model, demand.version);
    if (!entry) continue;
    const key = keyOf(entry.name, entry.version);
    const radiusKm = maxDistanceKmForRttMs(targetMs - entry.serviceMs);
    const near = radiusKm > 0 ? input.nodesNear(h3CellToLatLng(demand.cell as H3Cell), radiusKm) : [];
    const requestsPerS = demand.count / (input.windowMs / 1000);
    const wanted = Math.max(MIN_REPLICAS, Math.ceil((requestsPerS * entry.serviceMs) / 1000 / TARGET_UTILISATION));
    let replicas = 0;
    for (const node of near) {
      const held = node.models.find((m) => m.name === entry.name && m.version === entry.version) ?? entry.sample;
      if (desired.get(node.id)?.has(key) && meetsAcceleratorNeed(node, held)) {
        replicas++;
        useful.add(`${node.id}\u0000${key}`);
      }
    }
    for (const node of near) {
      if (replicas >= wanted) break;
      const models = desired.get(node.id);
      if (!models || models.has(key) || !meetsAcceleratorNeed(node, entry.sample)) continue;
      if (!makeRoom({ node, models, usedMb, useful, needMb: memoryMbOf(entry.sizeBytes) })) continue;
      models.set(key, entry);
      usedMb.set(node.id, usedMb.get(node.id)! + memoryMbOf(entry.sizeBytes));
      useful.add(`${node.id}\u0000${key}`);
      replicas++;
      assignments.push({
        nodeId: node.id,
        model: entry.name,
        version: entry.version,
        cell: demand.cell,
        reason: `${demand.count} requests from ${demand.cell} in the window; ${replicas - 1} of ${wanted} replicas within ${Math.round(radiusKm)} km`,
      });
    }
    if (replicas < wanted) shortfalls.push({ cell: demand.cell, model: entry.name, version: entry.version, replicas, wanted });
  }

  const out = new Map<string, DesiredModel[]>();
  for (const [nodeId, models] of desired) {
    out.set(
      nodeId,
      [...models.values()]
        .map(({ name, version, contentId }) => ({ name, version, contentId }))
        .sort((a, b) => (keyOf(a.name, a.version) < keyOf(b.name, b.version) ? -1 : 1)),
    );
  }
  return { desired: out, assignments, shortfalls };
}

/** Frees memory by dropping held models no demand has used yet, largest first. False if it cannot. */
function makeRoom(o: {
  node: NodeRecord;
  models: Map<string, CatalogueEntry | DesiredModel>;
  usedMb: Map<string, number>;
  useful: Set<string>;
  needMb: number;
}): boolean {
  const capacityMb = o.node.hardware.memoryMb * NODE_MEMORY_SHARE_FOR_MODELS;
  let used = o.usedMb.get(o.node.id)!;
  if (used + o.needMb <= capacityMb) return true;
  const idle = o.node.models
    .filter((m) => o.models.has(keyOf(m.name, m.version)) && !o.useful.has(`${o.node.id}\u0000${keyOf(m.name, m.version)}`))
    .map((m) => ({ key: keyOf(m.name, m.version), mb: memoryMbOf(m.sizeBytes ?? DEFAULT_MODEL_SIZE_BYTES) }))
    .sort((a, b) => b.mb - a.mb);
  const drop: string[] = [];
  for (const m of idle) {
    if (used + o.needMb <= capacityMb) break;
    drop.push(m.key);
    used -= m.mb;
  }
  if (used + o.needMb > capacityMb) return false;
  for (const key of drop) o.models.delete(key);
  o.usedMb.set(o.node.id, used);
  return true;
}

function buildCatalogue(nodes: NodeRecord[]): Map<string, CatalogueEntry> {
  const catalogue = new Map<string, CatalogueEntry>();
  const serviceSamples = new Map<string, number[]>();
  for (const node of nodes) {
    for (const m of node.models) {
      const key = keyOf(m.name, m.version);
      if (!catalogue.has(key) || (m.sizeBytes && !catalogue.get(key)!.sample.sizeBytes)) {
        catalogue.set(key, { name: m.name, version: m.version, contentId: m.contentId, sizeBytes: m.sizeBytes ?? DEFAULT_MODEL_SIZE_BYTES, serviceMs: DEFAULT_SERVICE_MS, sample: m });
      }
      if (m.load) (serviceSamples.get(key) ?? serviceSamples.set(key, []).get(key)!).push(m.load.ewmaServiceMs);
    }
  }
  for (const [key, samples] of serviceSamples) {
    const sorted = samples.sort((a, b) => a - b);
    catalogue.get(key)!.serviceMs = sorted[Math.floor(sorted.length / 2)]!; // median: robust to one slow node
  }
  return catalogue;
}

/** A request without a version is planned for the newest version any node announces. */
function resolveEntry(catalogue: Map<string, CatalogueEntry>, name: string, version: string): CatalogueEntry | undefined {
  if (version) return catalogue.get(keyOf(name, version));
  let newest: CatalogueEntry | undefined;
  for (const entry of catalogue.values()) {
    if (entry.name !== name) continue;
    if (!newest || entry.version.localeCompare(newest.version, 'en', { numeric: true }) > 0) newest = entry;
  }
  return newest;
}
