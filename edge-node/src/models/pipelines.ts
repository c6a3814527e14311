/**
 * Pipelines (src/pipelines/pipeline.ts) for the project's own models. The features live inside the
 * graphs, so `preprocess*` only validates domain readings and lays them out as the model's input
 * tensor (batch 1; dynamic batching joins requests along dim 0), and the answer names the classes.
 */
import { HexEdgeError, type Tensor } from '@hexedge/protocol';
import { describe, requireFields } from '../pipelines/domain-input.ts';
import type { Pipeline, PipelineRunOptions } from '../pipelines/pipeline.ts';
import { PROBABILITIES_OUTPUT } from '../toolchain/mlp-graph.ts';
import { CHANNELS, READING_INTERVAL_S, WINDOW_READINGS } from './env-occupancy/constants.ts';
import { ENV_PIPELINE } from './env-occupancy/definition.ts';
import { READINGS_INPUT } from './env-occupancy/graph.ts';
import { AXES, SAMPLE_RATE_HZ, WINDOW_SAMPLES } from './vibration/constants.ts';
import { VIBRATION_PIPELINE } from './vibration/definition.ts';
import { WINDOW_INPUT } from './vibration/graph.ts';

export interface Classification {
  label: string;
  confidence: number;
  probabilities: Record<string, number>;
}

function requireValue(what: string, actual: unknown, expected: unknown): void {
  if (actual !== expected)
    throw new HexEdgeError('INVALID_REQUEST', `${what} must be ${String(expected)}, got ${describe(actual)}`);
}

function requireFinite(what: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new HexEdgeError('INVALID_REQUEST', `${what} must be a finite number, got ${describe(value)}`);
  }
  return value;
}

/** `{ sampleRateHz: 3200, accelerationG: { x, y, z } }`, 512 samples per axis in g, oldest first. */
export function preprocessVibration(input: unknown): Tensor {
  const fields = requireFields({
    input,
    pipelineId: VIBRATION_PIPELINE,
    fields: ['sampleRateHz', 'accelerationG'],
  });
  // The band layout is in Hz; another rate would put every band on the wrong frequencies.
  requireValue('sampleRateHz', fields.sampleRateHz, SAMPLE_RATE_HZ);
  const axes = requireFields({ input: fields.accelerationG, pipelineId: VIBRATION_PIPELINE, fields: AXES });
  const data = new Float32Array(WINDOW_SAMPLES * AXES.length);
  AXES.forEach((axis, a) => {
    const samples = axes[axis];
    if (!Array.isArray(samples))
      throw new HexEdgeError(
        'INVALID_REQUEST',
        `accelerationG.${axis} must be an array, got ${describe(samples)}`,
      );
    requireValue(`accelerationG.${axis}.length`, samples.length, WINDOW_SAMPLES);
    for (let n = 0; n < WINDOW_SAMPLES; n++)
      data[n * AXES.length + a] = requireFinite(`accelerationG.${axis}[${n}]`, samples[n]);
  });
  return { name: WINDOW_INPUT, datatype: 'FP32', shape: [1, WINDOW_SAMPLES, AXES.length], data };
}

/** `{ readingIntervalS: 300, readings: [{ temperatureC, humidityPct, co2Ppm, lightLux, motionCount }] }`, 12 readings, oldest first. */
export function preprocessEnv(input: unknown): Tensor {
  const fields = requireFields({ input, pipelineId: ENV_PIPELINE, fields: ['readingIntervalS', 'readings'] });
  // Slopes are per hour over a one-hour window: the interval is part of the feature definition.
  requireValue('readingIntervalS', fields.readingIntervalS, READING_INTERVAL_S);
  const readings = fields.readings;
  if (!Array.isArray(readings))
    throw new HexEdgeError('INVALID_REQUEST', `readings must be an array, got ${describe(readings)}`);
  requireValue('readings.length', readings.length, WINDOW_READINGS);
  const data = new Float32Array(WINDOW_READINGS * CHANNELS.length);
  readings.forEach((reading: unknown, r) => {
    const values = requireFields({ input: reading, pipelineId: ENV_PIPELINE, fields: CHANNELS });
    CHANNELS.forEach(
      (channel, c) =>
        (data[r * CHANNELS.length + c] = requireFinite(`readings[${r}].${channel}`, values[channel])),
    );
  });
  return { name: READINGS_INPUT, datatype: 'FP32', shape: [1, WINDOW_READINGS, CHANNELS.length], data };
}

/** Names the classes of a batch-1 `probabilities` output. */
export function classify(outputs: Tensor[], labels: readonly string[]): Classification {
  const probabilities = outputs.find((t) => t.name === PROBABILITIES_OUTPUT)?.data;
  if (!probabilities || probabilities.length !== labels.length) {
    throw new HexEdgeError(
      'INTERNAL',
      `model returned no '${PROBABILITIES_OUTPUT}' with ${labels.length} values`,
    );
  }
  let best = 0;
  const named: Record<string, number> = {};
  labels.forEach((label, i) => {
    named[label] = Number(probabilities[i]);
    if (Number(probabilities[i]) > Number(probabilities[best])) best = i;
  });
  return { label: labels[best], confidence: named[labels[best]], probabilities: named };
}

function classificationPipeline(id: string, preprocess: (input: unknown) => Tensor): Pipeline {
  return {
    id,
    async run(options: PipelineRunOptions): Promise<Classification> {
      const labels = options.manifest.labels;
      if (!labels)
        throw new HexEdgeError(
          'INTERNAL',
          `manifest ${options.manifest.name}@${options.manifest.version} has no labels`,
        );
      return classify(await options.runModel([preprocess(options.input)]), labels);
    },
  };
}

export const vibrationWindowPipeline = classificationPipeline(VIBRATION_PIPELINE, preprocessVibration);
export const envWindowPipeline = classificationPipeline(ENV_PIPELINE, preprocessEnv);
