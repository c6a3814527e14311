import type { SimNode } from '../nodes.ts';
import type { NodeClass } from './adversary-metrics.ts';

export const classOf = (node: SimNode): NodeClass => node.role ?? 'honest';
/** Lying at the time it serves: fakes answers, claims a place it is not in, or relays. */
export const isDishonest = (node: SimNode) =>
  node.lieRate > 0 || node.relay === true || node.claimedLocation !== node.trueLocation;
