import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from './graph-builder.ts';
import { decodeOnnxModel, encodeOnnxModel, type GraphSpec } from './onnx-graph.ts';
import { createRng } from './prng.ts';
import { activationQuantParams, quantizeGraph, quantizeWeightsPerChannel, WEIGHT_QMAX } from './quantize.ts';

describe('quantizeWeightsPerChannel', () => {
  it('uses the reduced ±63 range per output column and rounds to the nearest step', () => {
    // Columns with very different magnitudes: per-channel scales keep the small one precise.
    const weights = Float32Array.of(1, 0.01, 0, -2, 0.02, 0, 0.5, -0.005, 0);
    const { values, scales } = quantizeWeightsPerChannel(weights, [3, 3]);
    expect(scales[0]).toBeCloseTo(2 / WEIGHT_QMAX, 7);
    expect(scales[1]).toBeCloseTo(0.02 / WEIGHT_QMAX, 7);
    expect(scales[2]).toBe(1); // all-zero column still gets a valid scale
    expect(values[3]).toBe(-63);
    expect(values[4]).toBe(63);
    for (let i = 0; i < weights.length; i++)
      expect(Math.abs(values[i] * scales[i % 3] - weights[i])).toBeLessThanOrEqual(scales[i % 3] / 2 + 1e-9);
  });
});

describe('activationQuantParams', () => {
  it('maps the calibrated range onto 0..255 and represents zero exactly', () => {
    const { scale, zeroPoint } = activationQuantParams({ min: -1, max: 3 });
    expect(scale).toBeCloseTo(4 / 255, 7);
    expect(zeroPoint).toBe(64);
    expect(activationQuantParams({ min: 0.5, max: 2 }).zeroPoint).toBe(0); // widened to include 0
  });
});

/** x[batch, 16] → MatMul 16×64 → Add → Relu → MatMul 64×8 → y */
function twoLayerGraph(): GraphSpec {
  const rng = createRng(9);
  const b = new GraphBuilder();
  const w = (n: number) => Array.from({ length: n }, () => rng.normal() * 0.3);
  const h = b.op(
    'Add',
    [
      b.op('MatMul', ['x', b.constantFloat('w0', [16, 64], w(16 * 64))], 'mm0'),
      b.constantFloat('b0', [64], w(64)),
    ],
    'h',
  );
  const r = b.op('Relu', [h], 'r');
  b.op('MatMul', [r, b.constantFloat('w1', [64, 8], w(64 * 8))], 'y');
  return {
    name: 'two-layer',
    opset: 13,
    inputs: [{ name: 'x', datatype: 'FP32', shape: ['batch', 16] }],
    outputs: [{ name: 'y', datatype: 'FP32', shape: ['batch', 8] }],
    nodes: b.nodes,
    initializers: b.initializers,
  };
}

describe('quantizeGraph', () => {
  const ranges = { x: { min: -3, max: 3 }, r: { min: 0, max: 6 } };

  it('inserts QDQ pairs that ONNX Runtime fuses into integer kernels, staying close to fp32', async () => {
    const spec = twoLayerGraph();
    const quantized = quantizeGraph(spec, { activationRanges: ranges });
    expect(quantized.nodes.filter((n) => n.opType === 'QuantizeLinear')).toHaveLength(2);
    expect(quantized.initializers.find((t) => t.name === 'w0')).toBeUndefined();
    expect(quantized.initializers.find((t) => t.name === 'w0_quantized')?.datatype).toBe('INT8');

    const dir = await mkdtemp(join(tmpdir(), 'hexedge-quantize-'));
    try {
      const optimizedModelFilePath = join(dir, 'optimized.onnx');
      // logSeverityLevel 3: ORT warns that an optimized file is machine-specific, which is the point here.
      const options = { graphOptimizationLevel: 'all', intraOpNumThreads: 1, logSeverityLevel: 3 } as const;
      const float = await ort.InferenceSession.create(encodeOnnxModel(spec), options);
      const int8 = await ort.InferenceSession.create(encodeOnnxModel(quantized), {
        ...options,
        optimizedModelFilePath,
      });
      const fused = decodeOnnxModel(await readFile(optimizedModelFilePath)).graph!.node!.map((n) => n.opType);
      expect(fused.some((op) => /MatMulInteger|QLinearMatMul|QGemm|DynamicQuantize/.test(op ?? ''))).toBe(
        true,
      );

      const rng = createRng(4);
      const x = new ort.Tensor(
        'float32',
        Float32Array.from({ length: 32 * 16 }, () => rng.normal()),
        [32, 16],
      );
      const [a, b] = [
        (await float.run({ x })).y.data as Float32Array,
        (await int8.run({ x })).y.data as Float32Array,
      ];
      let maxAbs = 0;
      let maxErr = 0;
      for (let i = 0; i < a.length; i++) {
        maxAbs = Math.max(maxAbs, Math.abs(a[i]));
        maxErr = Math.max(maxErr, Math.abs(a[i] - b[i]));
      }
      expect(maxErr / maxAbs).toBeLessThan(0.05);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('leaves excluded MatMuls in float and refuses to guess a missing range', () => {
    const spec = twoLayerGraph();
    const partial = quantizeGraph(spec, { activationRanges: ranges, excludeNodes: ['y'] });
    expect(partial.nodes.find((n) => n.name === 'y')?.inputs).toEqual(['r', 'w1']);
    expect(() => quantizeGraph(spec, { activationRanges: { x: ranges.x } })).toThrow(
      /no calibrated range for activation 'r'/,
    );
  });
});
