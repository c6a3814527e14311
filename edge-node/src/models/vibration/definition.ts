import type { ProjectModelDefinition } from '../definition.ts';
import { observeRange } from '../../toolchain/mlp-graph.ts';
import { AXIS_COUNT, LABELS, WINDOW_SAMPLES } from './constants.ts';
import { extractVibrationFeatures } from './features.ts';
import { generateVibrationDataset } from './generator.ts';
import { appendVibrationFeatures, AXES_MAJOR_TENSOR, FLOAT_ONLY_MATMULS, WINDOW_INPUT } from './graph.ts';

export const VIBRATION_PIPELINE = 'vibration-window-v1';

export const vibrationAnomalyModel: ProjectModelDefinition = {
  name: 'vibration-anomaly',
  version: '1.0.0',
  task: 'time-series-classification',
  description:
    'Rotating-machine condition from a 160 ms window of 3-axis acceleration (3200 Hz, g; x/y radial, z axial): ' +
    'normal, imbalance, bearing-fault (outer race), misalignment. Spectral band energies and kurtosis are computed inside the graph.',
  pipeline: VIBRATION_PIPELINE,
  sourceDir: 'edge-node/src/models/vibration/',
  labels: LABELS,
  inputName: WINDOW_INPUT,
  inputShape: [WINDOW_SAMPLES, AXIS_COUNT],
  // Held-out accuracy plateaus (≈98.7 %) by 4000 windows × 5 epochs for any hidden width 128–512; 512
  // makes the int8 MLP worth its kernels while the build stays a few seconds.
  trainCount: 4000,
  heldOutCount: 2000,
  mlp: { hiddenUnits: [512], epochs: 6, batchSize: 32, learningRate: 2e-3, weightDecay: 1e-4 },
  generate(rng, count) {
    const windows = generateVibrationDataset(rng, count);
    return { inputs: windows.map((w) => w.samplesG), labels: windows.map((w) => LABELS.indexOf(w.label)) };
  },
  extractFeatures: extractVibrationFeatures,
  appendFeatures: appendVibrationFeatures,
  floatOnlyMatMuls: FLOAT_ONLY_MATMULS,
  // The DFT MatMul reads the window itself (transposed): its range is the samples' range.
  observeFeatureStageRanges: (ranges, input) => observeRange(ranges, AXES_MAJOR_TENSOR, input),
};
