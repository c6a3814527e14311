import { describe, expect, it } from 'vitest';
import { ctcGreedyDecode } from './ctc-decode.ts';

const LABELS = ['<blank>', '0', '1', '2', ' '];

/** One-hot-ish rows: each step gives `p` to its class and shares the rest. */
function rows(steps: { k: number; p: number }[]): number[] {
  return steps.flatMap(({ k, p }) => LABELS.map((_, i) => (i === k ? p : (1 - p) / (LABELS.length - 1))));
}

describe('ctcGreedyDecode', () => {
  it('collapses repeats, drops blanks and keeps a character repeated across a blank', () => {
    const probabilities = rows([
      { k: 1, p: 0.9 },
      { k: 1, p: 0.8 },
      { k: 0, p: 0.9 },
      { k: 1, p: 0.7 },
      { k: 3, p: 0.6 },
      { k: 3, p: 0.9 },
    ]);
    const result = ctcGreedyDecode({ probabilities, steps: 6, classes: LABELS.length, labels: LABELS });
    expect(result.text).toBe('002');
    // Mean of the first step of each kept character: (0.9 + 0.7 + 0.6) / 3.
    expect(result.confidence).toBeCloseTo(2.2 / 3, 10);
  });

  it('drops spaces at the ends (crop edges and padding) but keeps inner ones', () => {
    const probabilities = rows([
      { k: 4, p: 0.5 },
      { k: 1, p: 0.9 },
      { k: 4, p: 0.9 },
      { k: 2, p: 0.9 },
      { k: 4, p: 0.3 },
    ]);
    const result = ctcGreedyDecode({ probabilities, steps: 5, classes: LABELS.length, labels: LABELS });
    expect(result).toEqual({ text: '0 1', confidence: expect.closeTo(0.9, 10) });
  });

  it('reads nothing, with confidence 0, from all blanks', () => {
    const probabilities = rows([
      { k: 0, p: 0.99 },
      { k: 0, p: 0.99 },
    ]);
    expect(ctcGreedyDecode({ probabilities, steps: 2, classes: LABELS.length, labels: LABELS })).toEqual({
      text: '',
      confidence: 0,
    });
  });
});
