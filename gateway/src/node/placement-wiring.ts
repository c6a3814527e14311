// The gateway's placement on Node: nodes' records in SQLite under the data directory (a restart loses
// no registration), and the per-source limits on node messages that the config states per minute and
// per second, turned into the token buckets NodeMessageLimits keeps.
import { Placement } from '@hexedge/placement';
import { SqliteNodeStore } from '@hexedge/placement/node';
import type { Lifecycle } from '@hexedge/protocol';
import path from 'node:path';
import type { GatewayConfig } from '../config.ts';
import { NodeMessageLimits } from '../routes/node-message-limits.ts';

/** Opens the placement store and Placement, each closed (checkpointed) at shutdown. */
export function openPlacement(o: { config: GatewayConfig; life: Lifecycle }): {
  placement: Placement;
  nodeMessageLimits: NodeMessageLimits;
} {
  const { config, life } = o;
  const nodeStore = new SqliteNodeStore({ path: path.join(config.dataDir, 'placement.sqlite') });
  life.defer('placement store', () => nodeStore.close());
  const { limits } = config;
  const nodeMessageLimits = new NodeMessageLimits({
    heartbeatIntervalMs: config.heartbeatIntervalMs,
    config: {
      registrationsPerIp: {
        perSecond: limits.registrationsPerIpPerMinute / 60,
        burst: limits.registrationBurstPerIp,
      },
      heartbeatsPerIp: {
        perSecond: limits.heartbeatsPerIpPerSecond,
        burst: Math.ceil(limits.heartbeatsPerIpPerSecond * 5),
      },
      registrationsPer48: {
        perSecond: limits.registrationsPer48PerMinute / 60,
        burst: limits.registrationBurstPer48,
      },
      heartbeatsPer48: {
        perSecond: limits.heartbeatsPer48PerSecond,
        burst: Math.ceil(limits.heartbeatsPer48PerSecond * 5),
      },
    },
  });
  const placement = new Placement({
    heartbeatIntervalMs: config.heartbeatIntervalMs,
    assumeLocationsVerified: config.assumeLocationsVerified,
    store: nodeStore,
    admit: nodeMessageLimits.admit,
    maxProbationNodes: limits.maxProbationNodes,
    probationLimitName: 'limits.maxProbationNodes',
  });
  life.defer('placement checkpoint', () => placement.checkpoint());
  return { placement, nodeMessageLimits };
}
