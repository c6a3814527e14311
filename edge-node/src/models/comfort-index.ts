import { sha256Hex } from '@hexedge/protocol';
import { encodeOnnxModel } from '../toolchain/onnx-graph.ts';
import type { ModelManifest } from './manifest.ts';

/**
 * `comfort-index`: the walking skeleton's model, small enough to build at start-up and to read in full.
 * Readings [temperature °C, relative humidity %, CO2 ppm] are standardised around an indoor comfort
 * point and scored by a linear layer whose weights encode two rules of thumb: warmth above ~26 °C
 * (ASHRAE 55 summer comfort range) means "too warm", CO2 above ~1000 ppm (the usual ventilation
 * guideline) means "stuffy". Softmax turns the scores into probabilities. The edge-node issue brings
 * trained models; this one is exact and explainable, which is what an end-to-end test wants.
 */
export const COMFORT_LABELS = ['comfortable', 'too_warm', 'stuffy'] as const;

/** Centre and spread of each reading, so one unit of standardised input is "one notable step". */
const CENTER = [22, 45, 700];
const SCALE = [2, 15, 200];
/** Rows: inputs (temperature, humidity, co2); columns: labels. */
export const WEIGHTS = [
  [0, 2.5, 0.3],
  [0, 0.4, 0.2],
  [0, 0, 2.5],
];
export const BIAS = [0, -5, -3.75];

/**
 * `weights`/`bias`/`docString` are for building other releases of the model the same way (rollout
 * tests build a retrained and a broken one: comfort-index-variants.ts); the defaults are the model.
 */
export function buildComfortIndexModel(
  options: { weights?: readonly (readonly number[])[]; bias?: readonly number[]; docString?: string } = {},
): Uint8Array {
  const weights = options.weights ?? WEIGHTS;
  const bias = options.bias ?? BIAS;
  const w = Float32Array.from(weights.flatMap((row, i) => row.map((v) => v / SCALE[i]!)));
  // Folding the standardisation into the bias: (x - c) / s · W + b = x · (W/s) + (b - c/s · W).
  const b = Float32Array.from(bias.map((b0, j) => b0 - CENTER.reduce((acc, c, i) => acc + (c / SCALE[i]!) * weights[i]![j]!, 0)));
  return encodeOnnxModel({
    name: 'comfort-index',
    opset: 13,
    docString: options.docString ?? 'Indoor comfort classifier: temperature, humidity, CO2 → comfortable / too_warm / stuffy',
    inputs: [{ name: 'readings', datatype: 'FP32', shape: ['batch', 3] }],
    outputs: [{ name: 'probabilities', datatype: 'FP32', shape: ['batch', 3] }],
    initializers: [
      { name: 'W', datatype: 'FP32', dims: [3, 3], data: w },
      { name: 'b', datatype: 'FP32', dims: [3], data: b },
    ],
    nodes: [
      { opType: 'MatMul', inputs: ['readings', 'W'], outputs: ['xw'] },
      { opType: 'Add', inputs: ['xw', 'b'], outputs: ['logits'] },
      { opType: 'Softmax', inputs: ['logits'], outputs: ['probabilities'], attributes: { axis: { int: -1 } } },
    ],
  });
}

export async function comfortIndexManifest(bytes: Uint8Array, options: { version?: string } = {}): Promise<ModelManifest> {
  return {
    name: 'comfort-index',
    version: options.version ?? '1',
    task: 'classification',
    description: 'Indoor comfort from temperature (°C), relative humidity (%) and CO2 (ppm)',
    contentId: await sha256Hex(bytes),
    sizeBytes: bytes.length,
    inputs: [{ name: 'readings', datatype: 'FP32', shape: [-1, 3] }],
    outputs: [{ name: 'probabilities', datatype: 'FP32', shape: [-1, 3] }],
    batchable: true,
    labels: [...COMFORT_LABELS],
    quantization: { scheme: 'fp32' },
    tolerance: 1e-5,
    prefersAccelerator: false,
    license: 'Apache-2.0',
    source: 'hexedge: hand-set weights, edge-node/src/models/comfort-index.ts',
  };
}
