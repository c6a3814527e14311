import { HexEdgeError, type StakeAccountView } from '@hexedge/protocol';
import type { OracleStore } from '../store/oracle-store.ts';
import type { StakeEvent } from '../store/records.ts';
import { PendingUnbonds } from './pending-unbonds.ts';

/** Share of a node's bond one confirmed fraud costs, in basis points (50 %): enough to make a lie cost more than it earns. */
export const DEFAULT_SLASH_BPS = 5000;
/** Stake asked back stays bonded, and slashable, this long: fraud found late still costs (a week). */
export const DEFAULT_UNBOND_DELAY_MS = 7 * 24 * 3600_000;
const BPS = 10_000n;

export interface SlashOutcome {
  /** False when this evidence was already slashed: nothing happened. */
  slashed: boolean;
  amountBaseUnits: bigint;
  balanceBaseUnits: bigint;
}

/** A node's stake at one moment, replayed from its events. */
export interface NodeStake {
  /** Slashable: bonded, including stake asked back whose delay has not passed. */
  bondedBaseUnits: bigint;
  /** Of that, asked back and not yet released. */
  unbondingBaseUnits: bigint;
  /** When the earliest pending unbond is released, or null. */
  releasesAtMs: number | null;
  /** The stake account that bonded it (its operator); undefined for a node never bonded. */
  operatorId: string | undefined;
}

interface Replay extends NodeStake {
  /** Released unbonds, per account they return to. */
  released: Map<string, bigint>;
  /** Unbonds still pending. */
  pendingCount: number;
}

/**
 * Unbonds one node may have pending at once. Each is a signed message that costs its operator nothing,
 * and every pending one is state the oracle keeps and replays: an operator wanting more stake back
 * waits for one to be released, or asks for more in one unbond.
 */
export const MAX_PENDING_UNBONDS = 64;

/**
 * Stake in integer base units, kept as events in the store (deposit, bond, unbond, slash), so every
 * balance can be audited from its history. Operators' stake accounts receive deposits and bond them
 * to nodes; a node is bonded by one operator at a time (recorded per node), and unbonded stake stays
 * slashable for `unbondDelayMs`. A slash names its evidence, and the same evidence never slashes twice
 * (the store refuses the second event atomically).
 */
export class StakeLedger {
  readonly #store: OracleStore;
  readonly #slashBps: bigint;
  readonly #unbondDelayMs: number;

  constructor(options: { store: OracleStore; slashBps?: number; unbondDelayMs?: number }) {
    const slashBps = options.slashBps ?? DEFAULT_SLASH_BPS;
    if (!Number.isInteger(slashBps) || slashBps < 0 || slashBps > 10_000) {
      throw new HexEdgeError(
        'INVALID_REQUEST',
        `slashBps must be an integer in [0, 10000], got ${String(slashBps)}`,
      );
    }
    this.#store = options.store;
    this.#slashBps = BigInt(slashBps);
    this.#unbondDelayMs = options.unbondDelayMs ?? DEFAULT_UNBOND_DELAY_MS;
  }

  get unbondDelayMs(): number {
    return this.#unbondDelayMs;
  }

  #replay(events: readonly StakeEvent[], atMs: number): Replay {
    let bonded = 0n;
    let operatorId: string | undefined;
    const pending = new PendingUnbonds();
    const released = new Map<string, bigint>();
    const release = (untilMs: number) =>
      pending.releaseUntil(untilMs, (p) => {
        bonded -= p.amount;
        released.set(p.accountId, (released.get(p.accountId) ?? 0n) + p.amount);
      });
    for (const e of events) {
      if (e.atMs > atMs) break;
      release(e.atMs);
      const amount = BigInt(e.amountBaseUnits);
      if (e.type === 'bond') {
        bonded += amount;
        operatorId = e.accountId ?? e.nodeId;
      } else if (e.type === 'unbond') {
        const free = bonded - pending.sum;
        const asked = amount < free ? amount : free;
        if (asked > 0n)
          pending.push({
            amount: asked,
            releasesAtMs: e.releasesAtMs ?? e.atMs,
            accountId: e.accountId ?? e.nodeId,
          });
      } else if (e.type === 'slash' && bonded > 0n) {
        // A slash reaches stake being unbonded too, in proportion.
        const after = bonded - amount;
        pending.scale(after, bonded);
        bonded = after;
      }
    }
    release(atMs);
    return {
      bondedBaseUnits: bonded,
      unbondingBaseUnits: pending.sum,
      releasesAtMs: pending.earliestMs,
      operatorId,
      released,
      pendingCount: pending.count,
    };
  }

  stakeOf(nodeId: string, atMs = Number.POSITIVE_INFINITY): NodeStake {
    const {
      released: _released,
      pendingCount: _pendingCount,
      ...stake
    } = this.#replay(this.#store.listStakeEvents(nodeId), atMs);
    return stake;
  }

  /** The node's slashable stake now. */
  balanceOf(nodeId: string, atMs = Number.POSITIVE_INFINITY): bigint {
    return this.stakeOf(nodeId, atMs).bondedBaseUnits;
  }

  operatorOf(nodeId: string): string | undefined {
    return this.stakeOf(nodeId).operatorId;
  }

  /** A stake account: its free balance and what it has bonded to which node. */
  accountOf(accountId: string, atMs: number): StakeAccountView {
    const events = this.#store.listStakeEvents();
    let free = 0n;
    const nodes = new Set<string>();
    for (const e of events) {
      if (e.atMs > atMs) continue;
      if (e.type === 'deposit' && e.nodeId === accountId) free += BigInt(e.amountBaseUnits);
      if (e.type === 'bond' && (e.accountId ?? e.nodeId) === accountId) {
        nodes.add(e.nodeId);
        if (e.funded) free -= BigInt(e.amountBaseUnits);
      }
    }
    const bonds: StakeAccountView['bonds'] = [];
    // Each node's events grouped in one pass (filtering all events per node was O(nodes · events)).
    const byNode = new Map<string, StakeEvent[]>();
    for (const e of events) {
      if (e.type === 'deposit' || !nodes.has(e.nodeId)) continue;
      const list = byNode.get(e.nodeId);
      if (list) list.push(e);
      else byNode.set(e.nodeId, [e]);
    }
    for (const nodeId of [...nodes].sort()) {
      const replay = this.#replay(byNode.get(nodeId) ?? [], atMs);
      free += replay.released.get(accountId) ?? 0n;
      if (replay.operatorId === accountId)
        bonds.push({
          nodeId,
          bondedBaseUnits: replay.bondedBaseUnits.toString(),
          unbondingBaseUnits: replay.unbondingBaseUnits.toString(),
          releasesAtMs: replay.releasesAtMs,
        });
    }
    return { accountId, freeBaseUnits: free.toString(), bonds };
  }

  /** Credits an operator's stake account (a treasury-signed deposit). */
  deposit(options: { accountId: string; amountBaseUnits: bigint; atMs: number }): void {
    positive(options.amountBaseUnits, 'deposit');
    this.#store.appendStakeEvent({
      nodeId: options.accountId,
      type: 'deposit',
      amountBaseUnits: options.amountBaseUnits.toString(),
      atMs: options.atMs,
    });
  }

  /**
   * Bonds stake to a node for `operatorId` (default: the node is its own operator). `fromAccount`
   * takes it from the operator's free balance (a signed bond); without it the stake comes from
   * outside (an operator's deposit made and bonded in one step by whoever runs the oracle).
   */
  bond(options: {
    nodeId: string;
    operatorId?: string;
    amountBaseUnits: bigint;
    atMs: number;
    fromAccount?: boolean;
  }): bigint {
    const { nodeId, amountBaseUnits, atMs } = options;
    const operatorId = options.operatorId ?? nodeId;
    positive(amountBaseUnits, 'bond');
    const current = this.stakeOf(nodeId, atMs);
    if (
      current.operatorId !== undefined &&
      current.operatorId !== operatorId &&
      current.bondedBaseUnits > 0n
    ) {
      throw new HexEdgeError(
        'FORBIDDEN',
        `node ${nodeId} is bonded by operator ${current.operatorId}; ${operatorId} cannot bond it until that stake is released`,
      );
    }
    if (options.fromAccount) {
      const free = BigInt(this.accountOf(operatorId, atMs).freeBaseUnits);
      if (free < amountBaseUnits)
        throw new HexEdgeError(
          'INVALID_REQUEST',
          `account ${operatorId} has ${free} base units free, cannot bond ${amountBaseUnits}`,
        );
    }
    this.#store.appendStakeEvent({
      nodeId,
      type: 'bond',
      amountBaseUnits: amountBaseUnits.toString(),
      accountId: operatorId,
      ...(options.fromAccount ? { funded: true } : {}),
      atMs,
    });
    return this.balanceOf(nodeId, atMs);
  }

  /** Asks bonded stake back: it stays slashable until the unbonding delay has passed. Returns when it is released. */
  unbond(options: { nodeId: string; operatorId?: string; amountBaseUnits: bigint; atMs: number }): number {
    const { nodeId, amountBaseUnits, atMs } = options;
    positive(amountBaseUnits, 'unbond');
    const current = this.#replay(this.#store.listStakeEvents(nodeId), atMs);
    const operatorId = options.operatorId ?? current.operatorId ?? nodeId;
    if (current.operatorId !== operatorId)
      throw new HexEdgeError('FORBIDDEN', `node ${nodeId} is not bonded by ${operatorId}`);
    if (current.pendingCount >= MAX_PENDING_UNBONDS)
      throw new HexEdgeError(
        'INVALID_REQUEST',
        `node ${nodeId} has ${current.pendingCount} unbonds pending, the most it may have; the next is released at ${new Date(current.releasesAtMs!).toISOString()}`,
      );
    const free = current.bondedBaseUnits - current.unbondingBaseUnits;
    if (amountBaseUnits > free)
      throw new HexEdgeError(
        'INVALID_REQUEST',
        `unbond amount must be in (0, ${free}], got ${amountBaseUnits}`,
      );
    const releasesAtMs = atMs + this.#unbondDelayMs;
    this.#store.appendStakeEvent({
      nodeId,
      type: 'unbond',
      amountBaseUnits: amountBaseUnits.toString(),
      accountId: operatorId,
      releasesAtMs,
      atMs,
    });
    return releasesAtMs;
  }

  /** Slashes `slashBps` of the node's slashable stake (rounded down), recording the evidence even when the bond is empty. */
  slash(options: {
    nodeId: string;
    evidenceId: string;
    evidence: Record<string, unknown>;
    atMs: number;
  }): SlashOutcome {
    const { nodeId, evidenceId, evidence, atMs } = options;
    if (typeof evidenceId !== 'string' || evidenceId.length === 0)
      throw new HexEdgeError('INVALID_REQUEST', 'slash needs an evidence id');
    const balance = this.balanceOf(nodeId, atMs);
    const amount = (balance * this.#slashBps) / BPS;
    const slashed = this.#store.appendStakeEvent({
      nodeId,
      type: 'slash',
      amountBaseUnits: amount.toString(),
      evidenceId,
      evidence,
      atMs,
    });
    return slashed
      ? { slashed, amountBaseUnits: amount, balanceBaseUnits: balance - amount }
      : { slashed, amountBaseUnits: 0n, balanceBaseUnits: balance };
  }

  slashes(
    nodeId?: string,
  ): Array<{ nodeId: string; evidenceId: string; amountBaseUnits: bigint; atMs: number }> {
    return this.#store
      .listStakeEvents(nodeId)
      .filter((e) => e.type === 'slash')
      .map((e) => ({
        nodeId: e.nodeId,
        evidenceId: e.evidenceId!,
        amountBaseUnits: BigInt(e.amountBaseUnits),
        atMs: e.atMs,
      }));
  }
}

function positive(amount: bigint, what: string): void {
  if (typeof amount !== 'bigint' || amount <= 0n)
    throw new HexEdgeError(
      'INVALID_REQUEST',
      `${what} amount must be a positive bigint, got ${String(amount)}`,
    );
}
