/**
 * A small multilayer perceptron (dense → ReLU → … → dense → softmax) trained with Adam on softmax
 * cross-entropy, in plain TypeScript so the project builds its models with no Python or native
 * toolchain. Deterministic: weights, shuffling and every arithmetic step depend only on the seed.
 * Weights are laid out [inputs][outputs], the layout of an ONNX MatMul's second operand.
 */
import { createRng, shuffledIndices } from './prng.ts';

export interface DenseLayer {
  inputCount: number;
  outputCount: number;
  /** Row-major [inputCount][outputCount]. */
  weights: Float64Array;
  bias: Float64Array;
}

/** ReLU after every layer but the last; the last layer's outputs are logits. */
export interface Mlp {
  layers: DenseLayer[];
}

export interface LabelledSet {
  features: Float64Array[];
  labels: number[];
}

export interface TrainMlpOptions {
  hiddenUnits: number[];
  classCount: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** Decoupled (AdamW) decay; keeps weights small, which also helps int8 weight scales. */
  weightDecay: number;
  seed: number;
}

/** Computes every layer's activations for one input; `activations[0]` is the input itself. */
export function mlpActivations(mlp: Mlp, input: Float64Array): Float64Array[] {
  const activations = [input];
  let x = input;
  mlp.layers.forEach((layer, l) => {
    const y = Float64Array.from(layer.bias);
    for (let i = 0; i < layer.inputCount; i++) {
      const xi = x[i];
      if (xi === 0) continue; // ReLU zeros are common; skipping them halves the work.
      const row = i * layer.outputCount;
      for (let j = 0; j < layer.outputCount; j++) y[j] += xi * layer.weights[row + j];
    }
    if (l < mlp.layers.length - 1) for (let j = 0; j < y.length; j++) y[j] = y[j] > 0 ? y[j] : 0;
    activations.push(y);
    x = y;
  });
  return activations;
}

export function softmax(logits: Float64Array): Float64Array {
  let max = -Infinity;
  for (const v of logits) max = Math.max(max, v);
  const out = new Float64Array(logits.length);
  let sum = 0;
  for (let j = 0; j < logits.length; j++) sum += out[j] = Math.exp(logits[j] - max);
  for (let j = 0; j < logits.length; j++) out[j] /= sum;
  return out;
}

export function mlpProbabilities(mlp: Mlp, input: Float64Array): Float64Array {
  const activations = mlpActivations(mlp, input);
  return softmax(activations[activations.length - 1]);
}

export function argMax(values: ArrayLike<number>): number {
  let best = 0;
  for (let j = 1; j < values.length; j++) if (values[j] > values[best]) best = j;
  return best;
}

function initLayers(inputCount: number, options: TrainMlpOptions): DenseLayer[] {
  const rng = createRng(options.seed);
  const sizes = [inputCount, ...options.hiddenUnits, options.classCount];
  return sizes.slice(1).map((outputCount, l) => {
    const fanIn = sizes[l];
    // He initialisation: variance 2/fanIn keeps ReLU activations at a stable scale through depth.
    const std = Math.sqrt(2 / fanIn);
    const weights = new Float64Array(fanIn * outputCount);
    for (let i = 0; i < weights.length; i++) weights[i] = std * rng.normal();
    return { inputCount: fanIn, outputCount, weights, bias: new Float64Array(outputCount) };
  });
}

/** Adam moment estimates for one parameter array. */
interface AdamSlot {
  m: Float64Array;
  v: Float64Array;
}

const ADAM_BETA1 = 0.9;
const ADAM_BETA2 = 0.999;
const ADAM_EPSILON = 1e-8;

export function trainMlp(data: LabelledSet, options: TrainMlpOptions): Mlp {
  const inputCount = data.features[0].length;
  const layers = initLayers(inputCount, options);
  const mlp: Mlp = { layers };
  const grads = layers.map((l) => ({
    weights: new Float64Array(l.weights.length),
    bias: new Float64Array(l.bias.length),
  }));
  const slots: AdamSlot[][] = layers.map((l) =>
    [l.weights, l.bias].map((p) => ({ m: new Float64Array(p.length), v: new Float64Array(p.length) })),
  );
  const shuffleRng = createRng(options.seed ^ 0x9e3779b9);
  let step = 0;
  const stepsTotal = options.epochs * Math.ceil(data.features.length / options.batchSize);

  for (let epoch = 0; epoch < options.epochs; epoch++) {
    const order = shuffledIndices(data.features.length, shuffleRng);
    for (let start = 0; start < order.length; start += options.batchSize) {
      const batch = order.subarray(start, Math.min(order.length, start + options.batchSize));
      for (const g of grads) {
        g.weights.fill(0);
        g.bias.fill(0);
      }
      for (const index of batch) accumulateGradients(mlp, grads, data.features[index], data.labels[index]);
      step++;
      // Linear decay to 10 % over training: large steps early, fine settling at the end.
      const lr = options.learningRate * (1 - (0.9 * (step - 1)) / stepsTotal);
      layers.forEach((layer, l) => {
        adamUpdate(layer.weights, grads[l].weights, slots[l][0], {
          lr,
          step,
          scale: 1 / batch.length,
          decay: options.weightDecay,
        });
        adamUpdate(layer.bias, grads[l].bias, slots[l][1], { lr, step, scale: 1 / batch.length, decay: 0 });
      });
    }
  }
  // Round to what the ONNX file stores, so the plain-TS forward pass and the graph use equal weights.
  for (const layer of layers) {
    for (let i = 0; i < layer.weights.length; i++) layer.weights[i] = Math.fround(layer.weights[i]);
    for (let i = 0; i < layer.bias.length; i++) layer.bias[i] = Math.fround(layer.bias[i]);
  }
  return mlp;
}

function accumulateGradients(
  mlp: Mlp,
  grads: { weights: Float64Array; bias: Float64Array }[],
  input: Float64Array,
  label: number,
): void {
  const activations = mlpActivations(mlp, input);
  // d(cross-entropy)/d(logits) = softmax − one-hot.
  let delta = softmax(activations[activations.length - 1]);
  delta[label] -= 1;
  for (let l = mlp.layers.length - 1; l >= 0; l--) {
    const layer = mlp.layers[l];
    const x = activations[l];
    const g = grads[l];
    for (let j = 0; j < layer.outputCount; j++) g.bias[j] += delta[j];
    const previous = l > 0 ? new Float64Array(layer.inputCount) : undefined;
    for (let i = 0; i < layer.inputCount; i++) {
      const xi = x[i];
      const row = i * layer.outputCount;
      if (xi !== 0) for (let j = 0; j < layer.outputCount; j++) g.weights[row + j] += xi * delta[j];
      if (previous && xi > 0) {
        // ReLU passes the gradient only where its output was positive.
        let sum = 0;
        for (let j = 0; j < layer.outputCount; j++) sum += layer.weights[row + j] * delta[j];
        previous[i] = sum;
      }
    }
    if (previous) delta = previous;
  }
}

function adamUpdate(
  params: Float64Array,
  grad: Float64Array,
  slot: AdamSlot,
  o: { lr: number; step: number; scale: number; decay: number },
): void {
  const correction1 = 1 - Math.pow(ADAM_BETA1, o.step);
  const correction2 = 1 - Math.pow(ADAM_BETA2, o.step);
  for (let i = 0; i < params.length; i++) {
    const g = grad[i] * o.scale;
    slot.m[i] = ADAM_BETA1 * slot.m[i] + (1 - ADAM_BETA1) * g;
    slot.v[i] = ADAM_BETA2 * slot.v[i] + (1 - ADAM_BETA2) * g * g;
    const update = slot.m[i] / correction1 / (Math.sqrt(slot.v[i] / correction2) + ADAM_EPSILON);
    params[i] -= o.lr * (update + o.decay * params[i]);
  }
}
