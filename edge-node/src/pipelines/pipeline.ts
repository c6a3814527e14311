import type { Tensor } from '@hexedge/protocol';
import type { ModelManifest } from '../models/manifest.ts';

/**
 * Pre- and post-processing that travels with a model (its manifest names the pipeline id), so clients
 * send domain values (named sensor readings, PCM16 audio, a PNG crop) and get domain answers (a label
 * with probabilities, speech probability per frame, text). The raw tensor interface stays available.
 *
 * A pipeline may run the model more than once per request (a stateful model such as Silero VAD runs
 * once per audio frame, carrying its state tensor from one run to the next).
 */
export interface Pipeline {
  readonly id: string;
  /** Checks and maps one domain request to model runs and back. Bad input throws HexEdgeError (400). */
  run(options: PipelineRunOptions): Promise<unknown>;
  /** A small valid domain input for the warm-up run, where zero tensors would not be valid input. */
  warmUpInput?(): unknown;
}

export interface PipelineRunOptions {
  /** The request's domain value, parsed from JSON (validate it: it comes from the network). */
  input: unknown;
  manifest: ModelManifest;
  /** Runs the model once on validated tensors. */
  runModel(inputs: Tensor[]): Promise<Tensor[]>;
}
