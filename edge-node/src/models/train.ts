/**
 * Trains one project model and assembles its graphs: synthetic data → features → standardiser → MLP
 * (plain TS, seeded), then the fp32 graph (feature stage + standardise + MLP + Softmax/ArgMax) and its
 * int8 QDQ twin calibrated on training data. Pure computation: no files, no runtime.
 */
import { GraphBuilder } from '../toolchain/graph-builder.ts';
import { mlpProbabilities, trainMlp, type Mlp } from '../toolchain/mlp.ts';
import {
  appendMlp,
  LABEL_OUTPUT,
  mlpActivationRanges,
  PROBABILITIES_OUTPUT,
} from '../toolchain/mlp-graph.ts';
import type { GraphSpec } from '../toolchain/onnx-graph.ts';
import { createRng } from '../toolchain/prng.ts';
import { quantizeGraph, type ActivationRange } from '../toolchain/quantize.ts';
import { fitStandardizer, standardize, type Standardizer } from '../toolchain/standardize.ts';
import type { LabelledInputs, ProjectModelDefinition } from './definition.ts';

/** The seed `buildProjectModels` uses unless told otherwise; changing it changes every content id. */
export const DEFAULT_MODEL_SEED = 20240611;
/** Opset 13 runs on every onnxruntime-node and onnxruntime-web release we support. */
export const MODEL_OPSET = 13;
/** Min/max over this many training examples; ranges stop widening well before. */
const CALIBRATION_EXAMPLES = 1000;
export const BATCH_DIM = 'batch';

export interface TrainedModel {
  definition: ProjectModelDefinition;
  standardizer: Standardizer;
  mlp: Mlp;
  fp32: GraphSpec;
  int8: GraphSpec;
}

/** FNV-1a of a string, to give every model and purpose its own reproducible random stream. */
function hashString(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return hash;
}

export function streamSeed(seed: number, model: string, purpose: 'train' | 'held-out' | 'init'): number {
  return (hashString(`${model}/${purpose}`) ^ seed) >>> 0;
}

/** The held-out examples for a seed; never seen by training or calibration. */
export function generateHeldOut(definition: ProjectModelDefinition, seed: number): LabelledInputs {
  return definition.generate(
    createRng(streamSeed(seed, definition.name, 'held-out')),
    definition.heldOutCount,
  );
}

export function trainProjectModel(definition: ProjectModelDefinition, seed: number): TrainedModel {
  const train = definition.generate(
    createRng(streamSeed(seed, definition.name, 'train')),
    definition.trainCount,
  );
  const features = train.inputs.map((x) => definition.extractFeatures(x));
  const standardizer = fitStandardizer(features);
  const mlp = trainMlp(
    { features: features.map((f) => standardize(standardizer, f)), labels: train.labels },
    {
      ...definition.mlp,
      classCount: definition.labels.length,
      seed: streamSeed(seed, definition.name, 'init'),
    },
  );
  const fp32 = graphSpec(definition, standardizer, mlp);

  const calibration = { standardizer, mlp, features: features.slice(0, CALIBRATION_EXAMPLES) };
  const ranges: Record<string, ActivationRange> = mlpActivationRanges(calibration);
  for (const input of train.inputs.slice(0, CALIBRATION_EXAMPLES))
    definition.observeFeatureStageRanges(ranges, input);
  const int8 = quantizeGraph(fp32, { activationRanges: ranges, excludeNodes: definition.floatOnlyMatMuls });
  int8.metadata = { ...int8.metadata, quantization: 'int8' };
  return { definition, standardizer, mlp, fp32, int8 };
}

function graphSpec(definition: ProjectModelDefinition, standardizer: Standardizer, mlp: Mlp): GraphSpec {
  const b = new GraphBuilder();
  appendMlp(b, { input: definition.appendFeatures(b), standardizer, mlp });
  return {
    name: definition.name,
    opset: MODEL_OPSET,
    docString: definition.description,
    inputs: [{ name: definition.inputName, datatype: 'FP32', shape: [BATCH_DIM, ...definition.inputShape] }],
    outputs: [
      { name: PROBABILITIES_OUTPUT, datatype: 'FP32', shape: [BATCH_DIM, definition.labels.length] },
      { name: LABEL_OUTPUT, datatype: 'INT64', shape: [BATCH_DIM] },
    ],
    nodes: b.nodes,
    initializers: b.initializers,
    metadata: {
      name: definition.name,
      version: definition.version,
      pipeline: definition.pipeline,
      labels: JSON.stringify(definition.labels),
      license: 'Apache-2.0',
      quantization: 'fp32',
    },
  };
}

/** The plain-TS forward pass (float64): what the fp32 graph must reproduce. */
export function referenceProbabilities(model: TrainedModel, input: Float32Array): Float64Array {
  return mlpProbabilities(
    model.mlp,
    standardize(model.standardizer, model.definition.extractFeatures(input)),
  );
}
