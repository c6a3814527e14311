export { type NodeRecord, type NodeStatus } from './node-record.ts';
export { NodeRegistry } from './node-registry.ts';
export { type IndexedPoint, NodeIndex } from './node-index.ts';
export {
  type DemandRow,
  type DepartedNode,
  MemoryNodeStore,
  type NodeStore,
  type TrustRecord,
} from './node-store.ts';
export { type Candidate, type InFlightCounts, Placement } from './placement.ts';
export {
  coldLoadMs,
  FIBER_KM_PER_MS,
  LAST_MILE_RTT_MS,
  maxDistanceKmForRttMs,
  networkRttMs,
  ROUTE_STRETCH,
} from './latency.ts';
export { DEMAND_WINDOW_MS } from './demand.ts';
export { seededRandom } from './random.ts';
export { PROBATION_TRAFFIC_SHARE, TRUST_FLOOR } from './trust.ts';
export { isKnownRegion, regionsAt, resolveRegion } from './jurisdiction.ts';
export { checkK, checkPolicy, toQueryLatLng, type CheckedPolicy, type QueryLocation } from './query.ts';
export { placementPolicySchema, type PlacementPolicy } from '@hexedge/protocol';
export { type JoiningModel, modelsForJoiningNode } from './joining-node.ts';
export { stableHash32, stableUnit } from './stable-hash.ts';
export { applyVersionPlacements, canaryNodeIds, type VersionPlacement } from './version-placement.ts';
export {
  applyTrustEntries,
  claimedAtMs,
  type ClaimHolder,
  type TrustApplied,
  type TrustTarget,
} from './trust-entries.ts';
