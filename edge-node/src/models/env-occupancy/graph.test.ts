import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../toolchain/graph-builder.ts';
import { encodeOnnxModel } from '../../toolchain/onnx-graph.ts';
import { createRng } from '../../toolchain/prng.ts';
import { CHANNEL_COUNT, FEATURE_COUNT, WINDOW_READINGS } from './constants.ts';
import { extractEnvFeatures } from './features.ts';
import { generateEnvDataset } from './generator.ts';
import { appendEnvFeatures, READINGS_INPUT } from './graph.ts';

describe('env feature graph', () => {
  it('computes the plain-TS window statistics from raw readings', async () => {
    const b = new GraphBuilder();
    const features = appendEnvFeatures(b);
    const bytes = encodeOnnxModel({
      name: 'env-features',
      opset: 13,
      inputs: [{ name: READINGS_INPUT, datatype: 'FP32', shape: ['batch', WINDOW_READINGS, CHANNEL_COUNT] }],
      outputs: [{ name: features, datatype: 'FP32', shape: ['batch', FEATURE_COUNT] }],
      nodes: b.nodes,
      initializers: b.initializers,
    });
    const windows = generateEnvDataset(createRng(8), 9);
    const data = new Float32Array(windows.length * WINDOW_READINGS * CHANNEL_COUNT);
    windows.forEach((w, i) => data.set(w.readings, i * w.readings.length));
    const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1 });
    const out = (
      await session.run({
        [READINGS_INPUT]: new ort.Tensor('float32', data, [windows.length, WINDOW_READINGS, CHANNEL_COUNT]),
      })
    )[features];
    windows.forEach((w, i) => {
      const expected = extractEnvFeatures(w.readings);
      // float32 relative precision on values up to a few thousand ppm.
      for (let f = 0; f < FEATURE_COUNT; f++)
        expect((out.data as Float32Array)[i * FEATURE_COUNT + f]).toBeCloseTo(expected[f], 2);
    });
  });
});
