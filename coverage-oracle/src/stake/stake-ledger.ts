import { HexEdgeError } from '@hexedge/protocol';
import type { OracleStore } from '../store/oracle-store.ts';

/** Share of a node's bond one confirmed fraud costs, in basis points (50 %): enough to make a lie cost more than it earns. */
export const DEFAULT_SLASH_BPS = 5000;
const BPS = 10_000n;

export interface SlashOutcome {
  /** False when this evidence was already slashed: nothing happened. */
  slashed: boolean;
  amountBaseUnits: bigint;
  balanceBaseUnits: bigint;
}

/**
 * Stake per node in integer base units. Every change is an event in the store; the balance is their
 * sum, so the ledger can always be audited from its history. A slash names its evidence, and the same
 * evidence never slashes twice (the store refuses the second event atomically).
 */
export class StakeLedger {
  readonly #store: OracleStore;
  readonly #slashBps: bigint;

  constructor(options: { store: OracleStore; slashBps?: number }) {
    const slashBps = options.slashBps ?? DEFAULT_SLASH_BPS;
    if (!Number.isInteger(slashBps) || slashBps < 0 || slashBps > 10_000) {
      throw new HexEdgeError('INVALID_REQUEST', `slashBps must be an integer in [0, 10000], got ${String(slashBps)}`);
    }
    this.#store = options.store;
    this.#slashBps = BigInt(slashBps);
  }

  balanceOf(nodeId: string): bigint {
    let balance = 0n;
    for (const e of this.#store.listStakeEvents(nodeId)) balance += (e.type === 'bond' ? 1n : -1n) * BigInt(e.amountBaseUnits);
    return balance;
  }

  bond(options: { nodeId: string; amountBaseUnits: bigint; atMs: number }): bigint {
    const { nodeId, amountBaseUnits, atMs } = options;
    if (typeof amountBaseUnits !== 'bigint' || amountBaseUnits <= 0n) {
      throw new HexEdgeError('INVALID_REQUEST', `bond amount must be a positive bigint, got ${String(amountBaseUnits)}`);
    }
    this.#store.appendStakeEvent({ nodeId, type: 'bond', amountBaseUnits: amountBaseUnits.toString(), atMs });
    return this.balanceOf(nodeId);
  }

  unbond(options: { nodeId: string; amountBaseUnits: bigint; atMs: number }): bigint {
    const { nodeId, amountBaseUnits, atMs } = options;
    const balance = this.balanceOf(nodeId);
    if (typeof amountBaseUnits !== 'bigint' || amountBaseUnits <= 0n || amountBaseUnits > balance) {
      throw new HexEdgeError('INVALID_REQUEST', `unbond amount must be in (0, ${balance}], got ${String(amountBaseUnits)}`);
    }
    this.#store.appendStakeEvent({ nodeId, type: 'unbond', amountBaseUnits: amountBaseUnits.toString(), atMs });
    return balance - amountBaseUnits;
  }

  /** Slashes `slashBps` of the current balance (rounded down), recording the evidence even when the bond is empty. */
  slash(options: { nodeId: string; evidenceId: string; evidence: Record<string, unknown>; atMs: number }): SlashOutcome {
    const { nodeId, evidenceId, evidence, atMs } = options;
    if (typeof evidenceId !== 'string' || evidenceId.length === 0) throw new HexEdgeError('INVALID_REQUEST', 'slash needs an evidence id');
    const balance = this.balanceOf(nodeId);
    const amount = (balance * this.#slashBps) / BPS;
    const slashed = this.#store.appendStakeEvent({ nodeId, type: 'slash', amountBaseUnits: amount.toString(), evidenceId, evidence, atMs });
    return slashed ? { slashed, amountBaseUnits: amount, balanceBaseUnits: balance - amount } : { slashed, amountBaseUnits: 0n, balanceBaseUnits: balance };
  }

  slashes(nodeId?: string): Array<{ nodeId: string; evidenceId: string; amountBaseUnits: bigint; atMs: number }> {
    return this.#store
      .listStakeEvents(nodeId)
      .filter((e) => e.type === 'slash')
      .map((e) => ({ nodeId: e.nodeId, evidenceId: e.evidenceId!, amountBaseUnits: BigInt(e.amountBaseUnits), atMs: e.atMs }));
  }
}
