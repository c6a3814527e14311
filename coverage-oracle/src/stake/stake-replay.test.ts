import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { OracleStore } from '../store/oracle-store.ts';
import type { StakeEvent } from '../store/records.ts';
import { StakeLedger } from './stake-ledger.ts';

/** A ledger over a fixed event log (the replay's logic alone; the store's own tests cover storage). */
const ledgerOver = (events: StakeEvent[]) =>
  new StakeLedger({
    store: { listStakeEvents: () => events } as unknown as OracleStore,
  });

/** The replay as it was written first (a list filtered and summed at every event): the reference. */
function referenceReplay(events: readonly StakeEvent[], atMs: number) {
  let bonded = 0n;
  let operatorId: string | undefined;
  let pending: Array<{ amount: bigint; releasesAtMs: number; accountId: string }> = [];
  const release = (untilMs: number) => {
    for (const p of pending.filter((x) => x.releasesAtMs <= untilMs)) bonded -= p.amount;
    pending = pending.filter((x) => x.releasesAtMs > untilMs);
  };
  for (const e of events) {
    if (e.atMs > atMs) break;
    release(e.atMs);
    const amount = BigInt(e.amountBaseUnits);
    if (e.type === 'bond') {
      bonded += amount;
      operatorId = e.accountId ?? e.nodeId;
    } else if (e.type === 'unbond') {
      const free = bonded - pending.reduce((s, p) => s + p.amount, 0n);
      const asked = amount < free ? amount : free;
      if (asked > 0n)
        pending.push({
          amount: asked,
          releasesAtMs: e.releasesAtMs ?? e.atMs,
          accountId: e.accountId ?? e.nodeId,
        });
    } else if (e.type === 'slash' && bonded > 0n) {
      const after = bonded - amount;
      pending = pending.map((p) => ({ ...p, amount: (p.amount * after) / bonded }));
      bonded = after;
    }
  }
  release(atMs);
  return {
    bondedBaseUnits: bonded,
    unbondingBaseUnits: pending.reduce((s, p) => s + p.amount, 0n),
    releasesAtMs: pending.length ? pending.reduce((m, p) => Math.min(m, p.releasesAtMs), Infinity) : null,
    operatorId,
  };
}

const event = fc.record({
  type: fc.constantFrom('bond', 'unbond', 'unbond', 'slash'),
  amount: fc.bigInt({ min: 1n, max: 10_000n }),
  gapMs: fc.integer({ min: 0, max: 50 }),
  delayMs: fc.integer({ min: 0, max: 200 }),
});

describe('stake replay', () => {
  it('gives what the first replay gave for any log of bonds, unbonds and slashes, at any moment', () => {
    fc.assert(
      fc.property(fc.array(event, { maxLength: 60 }), fc.integer({ min: 0, max: 4_000 }), (drawn, atMs) => {
        let t = 0;
        const events: StakeEvent[] = drawn.map((d, seq) => {
          t += d.gapMs;
          return {
            seq,
            nodeId: 'n',
            type: d.type,
            accountId: 'op',
            // Small slashes: the oracle's take a share of what is bonded, never more than it.
            amountBaseUnits: String(d.type === 'slash' ? (d.amount % 3n) + 1n : d.amount),
            ...(d.type === 'unbond' ? { releasesAtMs: t + d.delayMs } : {}),
            atMs: t,
          };
        });
        expect(ledgerOver(events).stakeOf('n', atMs)).toEqual(referenceReplay(events, atMs));
      }),
      { numRuns: 500 },
    );
  });

  it('replays an operator’s 40 000 small unbonds in one pass (the old replay was quadratic in them)', () => {
    // An operator may sign as many unbonds as it likes; each is still bonded for the unbond delay. The
    // old replay filtered and summed every pending unbond at every event: 40 000 of them took minutes,
    // on every score tick and every stake message, on the oracle's one event loop.
    const events: StakeEvent[] = [
      { seq: 0, nodeId: 'n', type: 'bond', accountId: 'op', amountBaseUnits: '1000000', atMs: 0 },
      ...Array.from({ length: 40_000 }, (_, i): StakeEvent => ({
        seq: i + 1,
        nodeId: 'n',
        type: 'unbond',
        accountId: 'op',
        amountBaseUnits: '1',
        releasesAtMs: 1_000_000 + (i % 7) * 10,
        atMs: i + 1,
      })),
    ];
    expect(ledgerOver(events).stakeOf('n', 999_999)).toEqual({
      bondedBaseUnits: 1_000_000n,
      unbondingBaseUnits: 40_000n,
      releasesAtMs: 1_000_000,
      operatorId: 'op',
    });
    // 30 ms past the first release: the unbonds with offsets 0, 10, 20 and 30 are back in the account.
    const released = Array.from({ length: 40_000 }, (_, i) => i % 7).filter((k) => k <= 3).length;
    expect(ledgerOver(events).stakeOf('n', 1_000_030)).toEqual({
      bondedBaseUnits: 1_000_000n - BigInt(released),
      unbondingBaseUnits: 40_000n - BigInt(released),
      releasesAtMs: 1_000_040,
      operatorId: 'op',
    });
  });
});
