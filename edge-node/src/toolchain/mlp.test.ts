import { describe, expect, it } from 'vitest';
import { argMax, mlpProbabilities, trainMlp, type LabelledSet } from './mlp.ts';
import { createRng } from './prng.ts';

/** Four quadrant classes of the plane: not linearly separable for class pairs (XOR-like). */
function quadrants(seed: number, count: number): LabelledSet {
  const rng = createRng(seed);
  const set: LabelledSet = { features: [], labels: [] };
  for (let i = 0; i < count; i++) {
    const x = rng.uniform(-1, 1);
    const y = rng.uniform(-1, 1);
    set.features.push(Float64Array.of(x, y));
    set.labels.push(x * y > 0 ? 0 : 1);
  }
  return set;
}

const options = {
  hiddenUnits: [16],
  classCount: 2,
  epochs: 40,
  batchSize: 16,
  learningRate: 1e-2,
  weightDecay: 0,
  seed: 11,
};

describe('trainMlp', () => {
  it('learns a problem a linear model cannot', () => {
    const mlp = trainMlp(quadrants(1, 800), options);
    const test = quadrants(2, 400);
    const correct = test.features.filter(
      (f, i) => argMax(mlpProbabilities(mlp, f)) === test.labels[i],
    ).length;
    expect(correct / test.features.length).toBeGreaterThan(0.9);
  });

  it('is deterministic for a seed and stores float32-representable weights', () => {
    const a = trainMlp(quadrants(1, 200), { ...options, epochs: 3 });
    const b = trainMlp(quadrants(1, 200), { ...options, epochs: 3 });
    expect(a.layers[0].weights).toEqual(b.layers[0].weights);
    for (const w of a.layers[1].weights) expect(Math.fround(w)).toBe(w);
  });

  it('outputs probabilities', () => {
    const mlp = trainMlp(quadrants(1, 50), { ...options, epochs: 1 });
    const p = mlpProbabilities(mlp, Float64Array.of(0.3, -0.2));
    expect(p[0] + p[1]).toBeCloseTo(1, 12);
  });
});
