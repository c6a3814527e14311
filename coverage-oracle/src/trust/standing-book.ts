import type { CheckerCandidate } from '../spot-check/checker-draw.ts';
import type { VerifierBook } from '../stages/receipt-checks.ts';
import type { Standing } from './standing.ts';

export interface StandingEntry {
  standing: Standing;
  operatorId: string;
  stakeBaseUnits: bigint;
}

/**
 * Every node's standing as the score stage last computed it, for the stages and loops that need it
 * between two score runs (checker draws, challenger choice, which reports ingest accepts). A node the
 * book does not hold has no standing.
 */
export class StandingBook implements VerifierBook {
  #byNode = new Map<string, StandingEntry>();

  replace(entries: Map<string, StandingEntry>): void {
    this.#byNode = entries;
  }

  standingOf(nodeId: string): Standing | undefined {
    return this.#byNode.get(nodeId)?.standing;
  }

  isVerifier(nodeId: string): boolean {
    return this.#byNode.get(nodeId)?.standing.verifier ?? false;
  }

  operatorOf(nodeId: string): string | undefined {
    return this.#byNode.get(nodeId)?.operatorId;
  }

  verifier(nodeId: string): CheckerCandidate | undefined {
    const e = this.#byNode.get(nodeId);
    return e?.standing.verifier
      ? { nodeId, operatorId: e.operatorId, stakeBaseUnits: e.stakeBaseUnits }
      : undefined;
  }
}
