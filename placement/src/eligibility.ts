import type { CheckedPolicy } from './query.ts';
import { findModel, type NodeRecord } from './node-record.ts';
import type { NodeHealthBook } from './node-health.ts';
import type { NodeRegistry } from './node-registry.ts';
import { TRUST_FLOOR, type TrustBook } from './trust.ts';

/** Which nodes a request may go to at all, before any ranking (split out of placement.ts). */
export class Eligibility {
  readonly #registry: NodeRegistry;
  readonly #health: NodeHealthBook;
  readonly #trust: TrustBook;
  readonly #now: () => number;

  constructor(o: { registry: NodeRegistry; health: NodeHealthBook; trust: TrustBook; now: () => number }) {
    this.#registry = o.registry;
    this.#health = o.health;
    this.#trust = o.trust;
    this.#now = o.now;
  }

  isEligible(
    node: NodeRecord,
    q: { model: string; version: string | undefined; policy: CheckedPolicy },
  ): boolean {
    if (this.#registry.statusOf(node) !== 'healthy') return false;
    // Failed its last calls in a row (or a probe after that): off every list until the circuit half-opens.
    if (this.#health.isOpen(node.id, this.#now())) return false;
    const entry = findModel(node, q.model, q.version);
    // A node still loading the model can serve only a request whose deadline covers the load.
    if (!entry || (!entry.ready && q.policy.deadlineMs === undefined)) return false;
    const { regionId, minTrust } = q.policy;
    // The oracle caught this node (fraud, failed proofs): routed to by no request.
    const trust = this.#trust.scoreOf(node.id);
    if (!this.#trust.isOnProbation(node.id) && trust < TRUST_FLOOR) return false;
    if ((regionId !== undefined || minTrust !== undefined) && !node.locationVerified) return false;
    if (regionId !== undefined && !node.regions.includes(regionId)) return false;
    // A node on probation has unknown trust, not the default: it meets no minimum.
    return minTrust === undefined || (!this.#trust.isOnProbation(node.id) && trust >= minTrust);
  }
}
