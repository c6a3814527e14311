/**
 * Builds the models HexEdge trains itself and writes, per model, two artifacts:
 *   <name>@<version>.onnx       fp32
 *   <name>@<version>-int8.onnx  int8 (static QDQ), manifest version `<version>-int8`
 * each with `<name>@<version>[-int8].manifest.json` (the model store's layout, protocol's write-model.ts). Same seed → byte-identical .onnx files (and content ids).
 * `hexedge dev` runs this on first start; tests run it too, so it stays a few seconds.
 */
import { sha256Hex } from '@hexedge/protocol';
import { encodeOnnxModel, type GraphSpec, type ValueSpec } from '../toolchain/onnx-graph.ts';
import { QUANTIZATION_METHOD } from '../toolchain/quantize.ts';
import type { ProjectModelDefinition } from './definition.ts';
import { envOccupancyModel } from './env-occupancy/definition.ts';
import { onnxAccuracy } from './evaluate.ts';
import { writeModel } from '@hexedge/protocol/node';
import {
  MANIFEST_FILE_SUFFIX,
  modelManifestSchema,
  type ModelManifest,
  type TensorSpec,
} from './manifest.ts';
import { DEFAULT_MODEL_SEED, generateHeldOut, trainProjectModel, type TrainedModel } from './train.ts';
import { vibrationAnomalyModel } from './vibration/definition.ts';

export const PROJECT_MODELS: readonly ProjectModelDefinition[] = [vibrationAnomalyModel, envOccupancyModel];
export const INT8_VERSION_SUFFIX = '-int8';

/**
 * Largest probability difference spot checks accept between two nodes. fp32: runtimes sum in
 * different orders (MLAS vs wasm SIMD); measured ≤ 3.3e-6 between onnxruntime-node and -web over the
 * held-out sets, so 1e-4 leaves 30× headroom. int8: integer kernels agree exactly (measured 3e-7), but
 * a float feature landing on the other side of a uint8 rounding boundary on another CPU moves one
 * activation by a full step, which near a decision boundary moves probabilities by up to ~1e-2.
 */
const FP32_TOLERANCE = 1e-4;
const INT8_TOLERANCE = 1e-2;

export interface BuiltModel {
  manifest: ModelManifest;
  onnxPath: string;
  manifestPath: string;
}

export interface BuildProjectModelsOptions {
  outDir: string;
  seed?: number;
  /** Names from PROJECT_MODELS to build; all when absent. */
  only?: string[];
}

function tensorSpecs(values: ValueSpec[]): TensorSpec[] {
  return values.map((v) => ({
    name: v.name,
    datatype: v.datatype,
    shape: v.shape.map((d) => (typeof d === 'number' ? d : -1)),
  }));
}

async function manifestFor(o: {
  definition: ProjectModelDefinition;
  spec: GraphSpec;
  bytes: Uint8Array;
  int8: boolean;
  accuracy: { fp32: number; int8: number };
}): Promise<ModelManifest> {
  const { definition, spec } = o;
  return modelManifestSchema.parse({
    name: definition.name,
    version: o.int8 ? `${definition.version}${INT8_VERSION_SUFFIX}` : definition.version,
    task: definition.task,
    description: definition.description,
    contentId: await sha256Hex(o.bytes),
    sizeBytes: o.bytes.byteLength,
    inputs: tensorSpecs(spec.inputs),
    outputs: tensorSpecs(spec.outputs),
    batchable: true,
    pipeline: definition.pipeline,
    labels: [...definition.labels],
    quantization: o.int8 ? { scheme: 'int8', method: QUANTIZATION_METHOD } : { scheme: 'fp32' },
    accuracy: o.accuracy,
    tolerance: o.int8 ? INT8_TOLERANCE : FP32_TOLERANCE,
    prefersAccelerator: false,
    license: 'Apache-2.0',
    source: `hexedge: trained on synthetic data by ${definition.sourceDir} (seeded generator, plain-TS MLP)`,
  });
}

export interface ModelArtifact {
  manifest: ModelManifest;
  bytes: Uint8Array;
}

/** Trains one model and encodes its fp32 and int8 artifacts with manifests; writes nothing. */
export async function buildModelArtifacts(
  definition: ProjectModelDefinition,
  seed: number = DEFAULT_MODEL_SEED,
): Promise<{ trained: TrainedModel; artifacts: ModelArtifact[] }> {
  const trained = trainProjectModel(definition, seed);
  const fp32Bytes = encodeOnnxModel(trained.fp32);
  const int8Bytes = encodeOnnxModel(trained.int8);
  const heldOut = generateHeldOut(definition, seed);
  const accuracy = {
    fp32: await onnxAccuracy(fp32Bytes, definition, heldOut),
    int8: await onnxAccuracy(int8Bytes, definition, heldOut),
  };
  const artifacts: ModelArtifact[] = [];
  for (const [spec, bytes, int8] of [
    [trained.fp32, fp32Bytes, false],
    [trained.int8, int8Bytes, true],
  ] as const) {
    artifacts.push({ manifest: await manifestFor({ definition, spec, bytes, int8, accuracy }), bytes });
  }
  return { trained, artifacts };
}

export async function buildProjectModels(options: BuildProjectModelsOptions): Promise<BuiltModel[]> {
  const definitions = PROJECT_MODELS.filter((d) => !options.only || options.only.includes(d.name));
  const built: BuiltModel[] = [];
  for (const definition of definitions) {
    const { artifacts } = await buildModelArtifacts(definition, options.seed);
    for (const { manifest, bytes } of artifacts) {
      // The model store's writer: atomic renames, and the layout `readModelDir` loads.
      const onnxPath = await writeModel({ dir: options.outDir, manifest, bytes });
      built.push({
        manifest,
        onnxPath,
        manifestPath: `${onnxPath.slice(0, -'.onnx'.length)}${MANIFEST_FILE_SUFFIX}`,
      });
    }
  }
  return built;
}
