import type { NodeRecord } from './node-record.ts';
import type { DesiredModel } from './planner.ts';
import { stableUnit } from './stable-hash.ts';

/**
 * Where one model version of a rollout may be placed, on top of the demand planner's plan:
 * - `canary`: on a bounded share of the nodes that hold the model (any version): at most
 *   `nodeShare` of them (at least one), and at most `maxNodes`;
 * - `promoted`: on every node that holds the model, so the new version has the old one's capacity;
 * - `withdrawn` (rolled back): on none: no node is told to pull it.
 */
export interface VersionPlacement {
  /** The rollout it comes from; its id seeds the stable choice of canary nodes. */
  rolloutId: string;
  model: string;
  version: string;
  contentId: string;
  stage: 'canary' | 'promoted' | 'withdrawn';
  /** Share of the model's holders that get a canary version, in (0, 1]. */
  nodeShare: number;
  maxNodes?: number;
}

const holdsModel = (node: NodeRecord, model: string) => node.models.some((m) => m.name === model);
const holdsVersion = (node: NodeRecord, model: string, version: string) =>
  node.models.some((m) => m.name === model && m.version === version);

/**
 * The nodes a canary version runs on: those that already announce it (an operator may have loaded it;
 * nothing is unloaded), topped up to the share from the model's other holders in a stable order (a
 * hash of rollout id and node id), so re-planning does not move the canary from node to node.
 */
export function canaryNodeIds(spec: VersionPlacement, nodes: readonly NodeRecord[]): Set<string> {
  const holders = nodes.filter((n) => holdsModel(n, spec.model));
  const chosen = new Set(holders.filter((n) => holdsVersion(n, spec.model, spec.version)).map((n) => n.id));
  const wanted = Math.min(
    spec.maxNodes ?? Infinity,
    Math.max(1, Math.floor(spec.nodeShare * holders.length)),
  );
  const rest = holders
    .filter((n) => !chosen.has(n.id))
    .map((n) => ({ id: n.id, rank: stableUnit(`${spec.rolloutId}\u0000${n.id}`) }))
    .sort((a, b) => a.rank - b.rank || (a.id < b.id ? -1 : 1));
  for (const n of rest) {
    if (chosen.size >= wanted) break;
    chosen.add(n.id);
  }
  return chosen;
}

/**
 * Applies rollouts to the planner's desired models per node (in place): a canary version is desired
 * on its canary nodes only (the demand planner may have put it elsewhere, since canary and shadow
 * requests count as demand for it), a promoted one on every holder of the model, a withdrawn one on
 * none. A node that already holds a version keeps it in its list: the plan never unloads by omission.
 */
export function applyVersionPlacements(o: {
  desired: Map<string, DesiredModel[]>;
  nodes: readonly NodeRecord[];
  specs: readonly VersionPlacement[];
}): void {
  for (const spec of o.specs) {
    const targets =
      spec.stage === 'canary'
        ? canaryNodeIds(spec, o.nodes)
        : spec.stage === 'promoted'
          ? new Set(o.nodes.filter((n) => holdsModel(n, spec.model)).map((n) => n.id))
          : new Set<string>();
    for (const node of o.nodes) {
      const list = o.desired.get(node.id);
      if (!list) continue;
      const at = list.findIndex((m) => m.name === spec.model && m.version === spec.version);
      if (targets.has(node.id) && at < 0) {
        list.push({ name: spec.model, version: spec.version, contentId: spec.contentId });
        list.sort((a, b) => (`${a.name}\u0000${a.version}` < `${b.name}\u0000${b.version}` ? -1 : 1));
      } else if (!targets.has(node.id) && at >= 0 && !holdsVersion(node, spec.model, spec.version)) {
        list.splice(at, 1);
      }
    }
  }
}
