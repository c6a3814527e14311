import { describe, expect, it } from 'vitest';
import { MemoryDirectory } from '../directory.ts';
import { StakeLedger } from '../stake/stake-ledger.ts';
import { MemoryOracleStore } from '../store/memory-store.ts';
import type { Verdict } from '../store/records.ts';
import { StandingBook } from '../trust/standing-book.ts';
import { ScoreStage } from './score-stage.ts';

const DAY = 24 * 3600_000;
const NOW = 400 * DAY;

/** `count` passed spot checks of `nodeId`'s own answers, spread over the last `days`. */
function passes(nodeId: string, count: number, days: number): Verdict[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `spot:${nodeId}:${i}`,
    nodeId,
    kind: 'spot-check' as const,
    status: 'pass' as const,
    atMs: NOW - days * DAY + Math.floor((i * days * DAY) / count),
  }));
}

describe('score stage at scale', () => {
  it('scores a busy node with 250 000 passed spot checks in its lookback (a month at 0.1 per second)', async () => {
    // A node serving 4 req/s at the production sampling rate (2.5 %) gathers this many in a month. It
    // once threw a RangeError (Math.min over a spread array) and rebuilt each node's list by copying it
    // for every verdict (quadratic), so one busy honest node stopped trust updates for every node.
    const store = new MemoryOracleStore();
    store.saveVerdicts([...passes('busy', 250_000, 30), ...passes('quiet', 3, 30)]);
    // A tick reads each node's evidence (folded as verdicts are saved), never the verdicts themselves:
    // its cost does not grow with history.
    store.listVerdicts = () => {
      throw new Error('the score stage read the verdict log');
    };
    const published: { nodeId: string; score: number }[] = [];
    const book = new StandingBook();
    const stage = new ScoreStage({
      store,
      sink: { publish: (e) => published.push(e) },
      standing: {
        book,
        ledger: new StakeLedger({ store }),
        directory: new MemoryDirectory(),
        policy: { minBondBaseUnits: 0n, seasoningPasses: 3, seasoningMs: DAY, minTrust: 0.5 },
      },
    });
    expect(await stage.tick(NOW)).toBe(2);
    const busy = published.find((e) => e.nodeId === 'busy')!;
    const quiet = published.find((e) => e.nodeId === 'quiet')!;
    expect(busy.score).toBeGreaterThan(quiet.score);
    expect(busy.score).toBeGreaterThan(0.99);
    expect(book.standingOf('busy')).toMatchObject({ known: true, passes: 250_000 });
  });
});
