/**
 * The eviction attack's reports, through the oracle's real `Ingest`: a sybil signs a location report
 * ("not answered") about the honest node nearest it and posts it unasked. Ingest checks the schema,
 * freshness and the Ed25519 signature, then the reporter: a node without standing is no challenger
 * (`UNKNOWN_NODE`), and a verifier's word counts only in answer to the oracle's own probes
 * (`FORBIDDEN`). What it answers is counted per code; an accepted report would be counted as such.
 */
import { Ingest, MemoryOracleStore } from '@hexedge/coverage-oracle';
import type { Placement } from '@hexedge/placement';
import { signingInput } from '@hexedge/protocol';
import { sign } from 'node:crypto';
import type { SimNode } from '../nodes.ts';
import type { Rng } from '../random.ts';
import { bump } from './adversary-metrics.ts';
import type { AdversaryOracle } from './adversary-oracle.ts';

export class SybilReports {
  readonly #ingest: Ingest;
  readonly #oracle: AdversaryOracle;
  readonly #placement: Placement;
  readonly #rand: Rng;

  constructor(o: { oracle: AdversaryOracle; placement: Placement; rand: Rng }) {
    this.#oracle = o.oracle;
    this.#placement = o.placement;
    this.#rand = o.rand;
    this.#ingest = new Ingest({ store: new MemoryOracleStore(), directory: o.oracle.directory });
  }

  /** Each reporter tells the oracle, unasked, that the nearest other node did not answer it. */
  async send(reporters: readonly SimNode[], nowMs: number): Promise<void> {
    const raws: unknown[] = [];
    for (const sybil of reporters) {
      if (sybil.state !== 'up') continue;
      const victim = this.#placement.nearest({
        location: sybil.claimedLocation,
        k: 1,
        filter: (r) => r.id !== sybil.id,
      })[0];
      if (!victim) continue;
      const nonce = Buffer.from(
        Uint8Array.from({ length: 16 }, () => Math.floor(this.#rand() * 256)),
      ).toString('base64url');
      const body = {
        type: 'location',
        nodeId: sybil.id,
        nonce,
        issuedAtMs: Math.floor(nowMs),
        targetNodeId: victim.node.id,
        answered: false,
      };
      raws.push({
        body,
        signature: sign(null, signingInput('report', body), sybil.privateKey).toString('base64url'),
      });
    }
    if (raws.length === 0) return;
    const results = await this.#ingest.submitBatch(raws, Math.floor(nowMs));
    for (const r of results) bump(this.#oracle.metrics.evictReports, r.accepted ? 'accepted' : r.code);
  }
}
