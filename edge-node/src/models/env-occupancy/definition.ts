import type { ProjectModelDefinition } from '../definition.ts';
import { CHANNEL_COUNT, LABELS, WINDOW_READINGS } from './constants.ts';
import { extractEnvFeatures } from './features.ts';
import { generateEnvDataset } from './generator.ts';
import { appendEnvFeatures, FLOAT_ONLY_MATMULS, READINGS_INPUT } from './graph.ts';

export const ENV_PIPELINE = 'env-room-window-v1';

export const envOccupancyModel: ProjectModelDefinition = {
  name: 'env-occupancy',
  version: '1.0.0',
  task: 'time-series-classification',
  description:
    'Room occupancy and ventilation from one hour of LoRaWAN room-sensor readings (12 × 5 min: temperature °C, ' +
    'humidity %RH, CO2 ppm, light lux, PIR motion count): empty, occupied-ventilated, occupied-poorly-ventilated ' +
    '(outdoor air < 7 L/s per person). Window statistics are computed inside the graph.',
  pipeline: ENV_PIPELINE,
  sourceDir: 'edge-node/src/models/env-occupancy/',
  labels: LABELS,
  inputName: READINGS_INPUT,
  inputShape: [WINDOW_READINGS, CHANNEL_COUNT],
  trainCount: 6000,
  heldOutCount: 3000,
  mlp: { hiddenUnits: [64], epochs: 15, batchSize: 32, learningRate: 2e-3, weightDecay: 1e-4 },
  generate(rng, count) {
    const windows = generateEnvDataset(rng, count);
    return { inputs: windows.map((w) => w.readings), labels: windows.map((w) => LABELS.indexOf(w.label)) };
  },
  extractFeatures: extractEnvFeatures,
  appendFeatures: appendEnvFeatures,
  floatOnlyMatMuls: FLOAT_ONLY_MATMULS,
  // Only the MLP is quantized; its input ranges come from the MLP calibration.
  observeFeatureStageRanges: () => {},
};
