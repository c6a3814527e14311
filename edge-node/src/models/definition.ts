/**
 * What the build needs to know about one of the project's own models: how to make its data, its
 * feature stage (plain TS and as graph ops, which must agree), and its classifier's shape.
 */
import type { GraphBuilder } from '../toolchain/graph-builder.ts';
import type { TrainMlpOptions } from '../toolchain/mlp.ts';
import type { Rng } from '../toolchain/prng.ts';
import type { ActivationRange } from '../toolchain/quantize.ts';

export interface LabelledInputs {
  /** One raw model input per example, row-major without the batch dimension. */
  inputs: Float32Array[];
  /** Class index into `labels`. */
  labels: number[];
}

export interface ProjectModelDefinition {
  name: string;
  version: string;
  task: string;
  description: string;
  /** Pipeline id (pipelines.ts) whose `preprocess` maps domain readings to `inputName`. */
  pipeline: string;
  /** Folder of the generator, features and graph, for the manifest's `source`. */
  sourceDir: string;
  labels: readonly string[];
  inputName: string;
  /** Input shape without the batch dimension. */
  inputShape: number[];
  trainCount: number;
  heldOutCount: number;
  mlp: Omit<TrainMlpOptions, 'classCount' | 'seed'>;
  generate(rng: Rng, count: number): LabelledInputs;
  extractFeatures(input: Float32Array): Float64Array;
  /** Appends the feature ops reading `inputName`; returns the features tensor's name. */
  appendFeatures(b: GraphBuilder): string;
  /** MatMuls of the feature stage the quantizer must leave in float. */
  floatOnlyMatMuls: string[];
  /** Records ranges of feature-stage tensors that feed quantized MatMuls, from one raw input. */
  observeFeatureStageRanges(ranges: Record<string, ActivationRange>, input: Float32Array): void;
}
