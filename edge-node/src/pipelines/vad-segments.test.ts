import { describe, expect, it } from 'vitest';
import { SILERO_SEGMENT_DEFAULTS, speechSegments } from './vad-segments.ts';

const FRAME_MS = 32;
const segmentsOf = (probabilities: number[]) =>
  speechSegments({ probabilities, frameMs: FRAME_MS, ...SILERO_SEGMENT_DEFAULTS });
const run = (p: number, frames: number): number[] => new Array<number>(frames).fill(p);

describe('speechSegments', () => {
  it('opens at the positive threshold and closes after min silence under the negative one', () => {
    const probabilities = [...run(0.1, 5), ...run(0.9, 10), ...run(0.1, 10)];
    expect(segmentsOf(probabilities)).toEqual([{ startMs: 5 * FRAME_MS, endMs: 15 * FRAME_MS }]);
  });

  it('keeps a segment open through frames between the thresholds (hysteresis)', () => {
    const probabilities = [...run(0.9, 5), ...run(0.4, 10), ...run(0.9, 5), ...run(0, 5)];
    expect(segmentsOf(probabilities)).toEqual([{ startMs: 0, endMs: 20 * FRAME_MS }]);
  });

  it('does not open on frames between the thresholds', () => {
    expect(segmentsOf(run(0.45, 30))).toEqual([]);
  });

  it('bridges a pause shorter than min silence (100 ms = 4 frames of 32 ms)', () => {
    const probabilities = [...run(0.9, 10), ...run(0.1, 3), ...run(0.9, 10), ...run(0.1, 4)];
    expect(segmentsOf(probabilities)).toEqual([{ startMs: 0, endMs: 23 * FRAME_MS }]);
  });

  it('splits on a longer pause', () => {
    const probabilities = [...run(0.9, 10), ...run(0.1, 6), ...run(0.9, 10)];
    expect(segmentsOf(probabilities)).toEqual([
      { startMs: 0, endMs: 10 * FRAME_MS },
      { startMs: 16 * FRAME_MS, endMs: 26 * FRAME_MS },
    ]);
  });

  it('drops bursts shorter than min speech (250 ms) and closes a segment still open at the end', () => {
    const probabilities = [...run(0.9, 7), ...run(0, 10), ...run(0.9, 8)];
    expect(segmentsOf(probabilities)).toEqual([{ startMs: 17 * FRAME_MS, endMs: 25 * FRAME_MS }]);
  });
});
