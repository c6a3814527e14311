import type { Placement } from '@hexedge/placement';
import type { Lifecycle } from '@hexedge/protocol';
import path from 'node:path';
import { SqliteRolloutStore } from '../adapters/sqlite-rollout-store.ts';
import type { ModelCatalog } from '../catalog.ts';
import { RolloutManager } from '../rollouts/rollout-manager.ts';
import type { GatewayMetrics } from './metrics.ts';
import { registerRolloutMetrics } from './rollout-metrics.ts';

/** The file under the data directory holding rollouts and version policies. */
export const ROLLOUTS_FILE = 'rollouts.sqlite';

/**
 * The gateway's rollouts on Node: state in SQLite under the data directory (a restart resumes a
 * running rollout), versions placed through the in-process planner, judged every second until shutdown.
 */
export function startRollouts(o: {
  dataDir: string;
  placement: Placement;
  catalog: ModelCatalog;
  metrics: GatewayMetrics;
  life: Lifecycle;
  log: (line: string) => void;
}): RolloutManager {
  const store = new SqliteRolloutStore({ path: path.join(o.dataDir, ROLLOUTS_FILE) });
  o.life.defer('rollout store', () => store.close());
  const manager = new RolloutManager({
    store,
    catalogue: o.catalog,
    holders: (model, version) => {
      let n = 0;
      for (const node of o.placement.registry.values())
        if (node.models.some((m) => m.name === model && m.version === version)) n++;
      return n;
    },
    onPlacements: (placements) => o.placement.setVersionPlacements(placements),
    log: (m) => o.log(`gateway: ${m}`),
  });
  const stop = new AbortController();
  manager.start(stop.signal);
  o.life.defer('rollout judge', () => stop.abort());
  registerRolloutMetrics(o.metrics, manager);
  return manager;
}
