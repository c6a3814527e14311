import { sha256Hex } from '@hexedge/protocol';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import * as ortNode from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeOnnxModel } from '../toolchain/onnx-graph.ts';
import {
  buildModelArtifacts,
  buildProjectModels,
  PROJECT_MODELS,
  type BuiltModel,
  type ModelArtifact,
} from './build.ts';
import { batchTensor, EVALUATION_SESSION_OPTIONS } from './evaluate.ts';
import { modelManifestSchema } from './manifest.ts';
import { envWindowPipeline, vibrationWindowPipeline, type Classification } from './pipelines.ts';
import { readModelDir } from '@hexedge/protocol/node';
import type { Tensor } from '@hexedge/protocol';
import { generateHeldOut, referenceProbabilities, DEFAULT_MODEL_SEED, type TrainedModel } from './train.ts';

let outDir: string;
let built: BuiltModel[];
/** A second, independent build in memory: its bytes must equal the files' (determinism). */
const inMemory = new Map<string, { trained: TrainedModel; artifacts: ModelArtifact[] }>();

beforeAll(async () => {
  outDir = await mkdtemp(join(tmpdir(), 'hexedge-models-'));
  built = await buildProjectModels({ outDir });
  for (const d of PROJECT_MODELS) inMemory.set(d.name, await buildModelArtifacts(d));
}, 60_000);

afterAll(async () => {
  await rm(outDir, { recursive: true, force: true });
});

const bytesOf = (name: string, int8: boolean) =>
  new Uint8Array(
    inMemory.get(name)!.artifacts.find((a) => (a.manifest.quantization.scheme === 'int8') === int8)!.bytes,
  );

describe('buildProjectModels', () => {
  it('writes an fp32 and an int8 artifact per model, each with a valid manifest', async () => {
    expect(built.map((b) => basename(b.onnxPath))).toEqual([
      'vibration-anomaly@1.0.0.onnx',
      'vibration-anomaly@1.0.0-int8.onnx',
      'env-occupancy@1.0.0.onnx',
      'env-occupancy@1.0.0-int8.onnx',
    ]);
    for (const b of built) {
      const bytes = new Uint8Array(await readFile(b.onnxPath));
      const manifest = modelManifestSchema.parse(JSON.parse(await readFile(b.manifestPath, 'utf8')));
      expect(manifest).toEqual(b.manifest);
      expect(manifest.contentId).toBe(await sha256Hex(bytes));
      expect(manifest.sizeBytes).toBe(bytes.byteLength);
      expect(manifest.batchable).toBe(true);
      for (const t of [...manifest.inputs, ...manifest.outputs]) expect(t.shape[0]).toBe(-1);
      expect([vibrationWindowPipeline.id, envWindowPipeline.id]).toContain(manifest.pipeline);
      expect(manifest.license).toBe('Apache-2.0');
    }
  });

  it('loads through the model store, hash-checked', async () => {
    const { artifacts, problems } = await readModelDir(outDir);
    expect(problems).toEqual([]);
    expect(artifacts.map((a) => a.manifest.contentId).sort()).toEqual(
      built.map((b) => b.manifest.contentId).sort(),
    );
  });

  it('is deterministic: an independent build with the same seed gives byte-identical files', async () => {
    for (const b of built) {
      const bytes = new Uint8Array(await readFile(b.onnxPath));
      expect(bytes).toEqual(bytesOf(b.manifest.name, b.manifest.quantization.scheme === 'int8'));
    }
  });

  it('classifies held-out data far above chance, and int8 loses at most 1 percentage point', () => {
    for (const b of built) {
      const chance = 1 / b.manifest.labels!.length;
      expect(b.manifest.accuracy!.fp32).toBeGreaterThan(Math.max(0.9, 2.5 * chance));
      expect(b.manifest.accuracy!.int8).toBeGreaterThanOrEqual(b.manifest.accuracy!.fp32 - 0.01);
    }
  });
});

describe.each(PROJECT_MODELS.map((d) => [d.name, d] as const))('%s', (name, definition) => {
  const heldOut = () => generateHeldOut(definition, DEFAULT_MODEL_SEED).inputs.slice(0, 64);

  it('fp32 graph in onnxruntime-node equals the plain-TS forward pass within 1e-5', async () => {
    const { trained } = inMemory.get(name)!;
    const inputs = heldOut();
    const session = await ortNode.InferenceSession.create(bytesOf(name, false), EVALUATION_SESSION_OPTIONS);
    const probabilities = (await session.run({ [definition.inputName]: batchTensor(definition, inputs) }))
      .probabilities.data as Float32Array;
    const classes = definition.labels.length;
    let maxDiff = 0;
    inputs.forEach((input, i) => {
      const expected = referenceProbabilities(trained, input);
      for (let j = 0; j < classes; j++)
        maxDiff = Math.max(maxDiff, Math.abs(probabilities[i * classes + j] - expected[j]));
    });
    expect(maxDiff).toBeLessThan(1e-5);
  });

  it('int8 graph runs on integer kernels in onnxruntime-node', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hexedge-optimized-'));
    try {
      const optimizedModelFilePath = join(dir, 'optimized.onnx');
      await ortNode.InferenceSession.create(bytesOf(name, true), {
        ...EVALUATION_SESSION_OPTIONS,
        optimizedModelFilePath,
        logSeverityLevel: 3,
      });
      const ops = decodeOnnxModel(await readFile(optimizedModelFilePath)).graph!.node!.map(
        (n) => n.opType ?? '',
      );
      // QGemm (+Relu) for the hidden layer; the vibration DFT also becomes MatMulIntegerToFloat.
      expect(ops).toContain('QGemm');
      if (name === 'vibration-anomaly') expect(ops).toContain('MatMulIntegerToFloat');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('loads in onnxruntime-web (wasm, one thread) and agrees with onnxruntime-node within the manifest tolerance', async () => {
    ortWeb.env.wasm.numThreads = 1;
    const inputs = heldOut().slice(0, 16);
    for (const artifact of inMemory.get(name)!.artifacts) {
      const nodeSession = await ortNode.InferenceSession.create(artifact.bytes, EVALUATION_SESSION_OPTIONS);
      const webSession = await ortWeb.InferenceSession.create(artifact.bytes);
      const nodeOut = (await nodeSession.run({ [definition.inputName]: batchTensor(definition, inputs) }))
        .probabilities.data as Float32Array;
      const batch = batchTensor(definition, inputs);
      const webOut = (
        await webSession.run({
          [definition.inputName]: new ortWeb.Tensor('float32', batch.data as Float32Array, batch.dims),
        })
      ).probabilities.data as Float32Array;
      let maxDiff = 0;
      for (let i = 0; i < nodeOut.length; i++) maxDiff = Math.max(maxDiff, Math.abs(nodeOut[i] - webOut[i]));
      expect(maxDiff).toBeLessThanOrEqual(artifact.manifest.tolerance);
      await webSession.release();
      await nodeSession.release();
    }
  });
});

/** Held-out examples as the domain values a device would send. */
const domainInputs = {
  'vibration-anomaly': (x: Float32Array) => ({
    sampleRateHz: 3200,
    accelerationG: Object.fromEntries(
      ['x', 'y', 'z'].map((axis, a) => [axis, Array.from({ length: 512 }, (_, n) => x[n * 3 + a])]),
    ),
  }),
  'env-occupancy': (x: Float32Array) => ({
    readingIntervalS: 300,
    readings: Array.from({ length: 12 }, (_, r) => ({
      temperatureC: x[r * 5],
      humidityPct: x[r * 5 + 1],
      co2Ppm: x[r * 5 + 2],
      lightLux: x[r * 5 + 3],
      motionCount: x[r * 5 + 4],
    })),
  }),
} as const;

describe('pipelines on the built int8 models', () => {
  it.each([
    ['vibration-anomaly', vibrationWindowPipeline],
    ['env-occupancy', envWindowPipeline],
  ] as const)('%s: domain readings in, named class out', async (name, pipeline) => {
    const definition = PROJECT_MODELS.find((d) => d.name === name)!;
    const artifact = inMemory.get(name)!.artifacts.find((a) => a.manifest.quantization.scheme === 'int8')!;
    const session = await ortNode.InferenceSession.create(artifact.bytes, EVALUATION_SESSION_OPTIONS);
    const runModel = async (inputs: Tensor[]): Promise<Tensor[]> => {
      const feeds = Object.fromEntries(
        inputs.map((t) => [t.name, new ortNode.Tensor('float32', t.data as Float32Array, t.shape)]),
      );
      const out = await session.run(feeds);
      return [
        {
          name: 'probabilities',
          datatype: 'FP32',
          shape: [...out.probabilities.dims],
          data: out.probabilities.data as Float32Array,
        },
      ];
    };
    const heldOut = generateHeldOut(definition, DEFAULT_MODEL_SEED);
    let correct = 0;
    for (let i = 0; i < 20; i++) {
      const answer = (await pipeline.run({
        input: domainInputs[name](heldOut.inputs[i]),
        manifest: artifact.manifest,
        runModel,
      })) as Classification;
      expect(Object.keys(answer.probabilities)).toEqual(definition.labels);
      if (answer.label === definition.labels[heldOut.labels[i]]) correct++;
    }
    expect(correct).toBeGreaterThanOrEqual(17);
  });
});
