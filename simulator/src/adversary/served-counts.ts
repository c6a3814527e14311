import type { SimNode } from '../nodes.ts';
import type { Rng } from '../random.ts';
import type { SampledRequest } from '../requests.ts';
import { bump, type AdversaryMetrics } from './adversary-metrics.ts';
import { isDishonest } from './node-class.ts';

/** A sampled request served, counted in the run's metrics: wash trading apart, else by hour and by who served it. */
export function countServed(o: {
  metrics: AdversaryMetrics;
  node: SimNode;
  request: SampledRequest;
  rand: Rng;
}): void {
  const { node, request } = o;
  if (request.wash) {
    o.metrics.washRequests++;
    if (request.wash === node.id) o.metrics.washServedByOwn++;
    return;
  }
  const m = o.metrics;
  const hour = m.hour(request.hour);
  hour.served++;
  bump(m.servedByNode, node.id);
  if (node.role === undefined) hour.byHonest++;
  else bump(hour.bySybilRole, node.role);
  if (isDishonest(node)) hour.dishonest++;
  if (node.lieRate > 0 && o.rand() < node.lieRate) hour.wrongAnswers++;
}
