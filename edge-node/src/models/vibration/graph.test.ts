import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../toolchain/graph-builder.ts';
import { encodeOnnxModel } from '../../toolchain/onnx-graph.ts';
import { createRng } from '../../toolchain/prng.ts';
import { AXIS_COUNT, FEATURE_COUNT, WINDOW_SAMPLES } from './constants.ts';
import { extractVibrationFeatures } from './features.ts';
import { generateVibrationDataset } from './generator.ts';
import { appendVibrationFeatures, WINDOW_INPUT } from './graph.ts';

describe('vibration feature graph', () => {
  it('computes the plain-TS features (log band energies, log kurtosis) from the raw window', async () => {
    const b = new GraphBuilder();
    const features = appendVibrationFeatures(b);
    const bytes = encodeOnnxModel({
      name: 'vibration-features',
      opset: 13,
      inputs: [{ name: WINDOW_INPUT, datatype: 'FP32', shape: ['batch', WINDOW_SAMPLES, AXIS_COUNT] }],
      outputs: [{ name: features, datatype: 'FP32', shape: ['batch', FEATURE_COUNT] }],
      nodes: b.nodes,
      initializers: b.initializers,
    });
    const windows = generateVibrationDataset(createRng(8), 8);
    const data = new Float32Array(windows.length * WINDOW_SAMPLES * AXIS_COUNT);
    windows.forEach((w, i) => data.set(w.samplesG, i * w.samplesG.length));
    const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1 });
    const out = (
      await session.run({
        [WINDOW_INPUT]: new ort.Tensor('float32', data, [windows.length, WINDOW_SAMPLES, AXIS_COUNT]),
      })
    )[features];
    expect(out.dims).toEqual([windows.length, FEATURE_COUNT]);
    windows.forEach((w, i) => {
      const expected = extractVibrationFeatures(w.samplesG);
      // Log-domain features: float32 DFT sums shift them by ~1e-6; 1e-4 leaves room for weak bands.
      for (let f = 0; f < FEATURE_COUNT; f++)
        expect(Math.abs((out.data as Float32Array)[i * FEATURE_COUNT + f] - expected[f])).toBeLessThan(1e-4);
    });
  });
});
