import { describe, expect, it } from 'vitest';
import { MemoryOracleStore } from '../src/store/memory-store.ts';
import { makeOracle } from './fixtures/oracle.ts';
import { keys } from './fixtures/reports.ts';

/**
 * An epoch closes only once everything received before its end is judged: an oracle whose verify
 * stage lags (a load peak, a restart with a backlog) must not close it without that work, or the
 * nodes that did it are never paid for it.
 */
const EPOCH_MS = 3_600_000;
const SETTLE_MS = 60_000;
const E = 480_000; // an epoch well after 1970
const END = (E + 1) * EPOCH_MS;

async function oracleAt(nowMs: number) {
  const [oracleKeys] = await keys(1);
  const store = new MemoryOracleStore();
  const made = makeOracle({
    oracleKeys: oracleKeys!,
    nowMs,
    store,
    config: { epochMs: EPOCH_MS, settleMs: SETTLE_MS },
  });
  return { ...made, store };
}

describe('epoch close waits for judging', () => {
  it('keeps an epoch open past settleMs while a report received in it is not judged', async () => {
    const after = END + SETTLE_MS + 1;
    const { oracle, store } = await oracleAt(E * EPOCH_MS);
    // Received a second before the end, not judged yet (the verify stage is behind).
    store.appendReports([
      { type: 'witness', nodeId: 'h', receivedAtMs: END - 1_000, body: { type: 'witness' }, signature: 's' },
    ]);
    expect(await oracle.rewardStage.tick(after)).toBe(0);
    expect(store.listRecentLogHeaders(1)).toEqual([]);
    await oracle.verifyStage.tick(after);
    expect(await oracle.rewardStage.tick(after)).toBe(1);
    expect(store.listRecentLogHeaders(1)[0]?.epoch).toBe(E);
  });

  it('does not wait for reports received after the end', async () => {
    const { oracle, store } = await oracleAt(E * EPOCH_MS);
    store.appendReports([
      { type: 'witness', nodeId: 'h', receivedAtMs: END + 5, body: { type: 'witness' }, signature: 's' },
    ]);
    expect(await oracle.rewardStage.tick(END + SETTLE_MS + 1)).toBe(1);
  });

  it('keeps it open while a PoC round whose beacon came before the end is still open', async () => {
    const { oracle, store } = await oracleAt(E * EPOCH_MS);
    store.openRound({ roundKey: 'r', beaconSeq: 1, closesAtMs: END - 1_000 + 30_000 });
    expect(await oracle.rewardStage.tick(END + SETTLE_MS + 1)).toBe(0);
    store.closeRound('r');
    expect(await oracle.rewardStage.tick(END + SETTLE_MS + 1)).toBe(1);
  });
});
