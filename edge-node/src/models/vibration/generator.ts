/**
 * Synthetic 3-axis accelerometer windows from a rotating machine (motor → coupling → pump/fan on
 * rolling-element bearings), one of four conditions. The model is the textbook one used in
 * vibration analysis (ISO 20816 practice; Randall, "Vibration-based Condition Monitoring", 2011):
 *
 * - every machine turns at a shaft frequency fr (20–30 Hz = 1200–1800 rpm, 4-pole motors) and shows a
 *   little residual imbalance at 1×, a little 2×, electrical vibration at twice the line frequency,
 *   and broadband noise (sensor noise density plus flow/structure noise);
 * - imbalance: a rotating force at 1×, so large 1× in both radial axes, 90° apart (an orbit), and
 *   little axial motion;
 * - misalignment: the coupling bends twice (and three times) per turn, so 2× and 3× radial rise and,
 *   for angular misalignment, strong axial 1×/2×;
 * - outer-race bearing fault: each ball passing the defect (ball pass frequency outer race,
 *   BPFO = Nb/2 · fr · (1 − d/D · cos φ)) strikes the structure and rings its resonance (1–1.4 kHz) with
 *   an exponentially decaying envelope; the impulse train is amplitude-modulated by the load zone
 *   once per turn and jitters by ~1 % because balls slip.
 */
import type { Rng } from '../../toolchain/prng.ts';
import { AXIS_COUNT, LABELS, SAMPLE_RATE_HZ, WINDOW_SAMPLES, type VibrationLabel } from './constants.ts';

export interface VibrationWindow {
  /** Acceleration in g, interleaved [sample][axis] like the model input [samples, 3]. */
  samplesG: Float32Array;
  label: VibrationLabel;
}

const TWO_PI = 2 * Math.PI;

/** One sinusoidal component per axis: amplitude in g, phase in radians. */
interface Tone {
  frequencyHz: number;
  amplitudeG: [number, number, number];
  phaseRad: [number, number, number];
}

function addTone(out: Float64Array, tone: Tone): void {
  const omega = (TWO_PI * tone.frequencyHz) / SAMPLE_RATE_HZ;
  for (let n = 0; n < WINDOW_SAMPLES; n++) {
    for (let axis = 0; axis < AXIS_COUNT; axis++) {
      out[n * AXIS_COUNT + axis] += tone.amplitudeG[axis] * Math.cos(omega * n + tone.phaseRad[axis]);
    }
  }
}

/** A radial rotating vector (x cos, y sin: an elliptical orbit) plus an in-phase axial part. */
function orbitTone(rng: Rng, frequencyHz: number, radialG: number, axialG: number): Tone {
  const phase = rng.uniform(0, TWO_PI);
  // Support stiffness differs horizontally and vertically, so the orbit is an ellipse, not a circle.
  const ellipse = rng.uniform(0.7, 1.3);
  return {
    frequencyHz,
    amplitudeG: [radialG, radialG * ellipse, axialG],
    phaseRad: [phase, phase - Math.PI / 2, phase + rng.uniform(-0.5, 0.5)],
  };
}

function addBearingImpulses(out: Float64Array, rng: Rng, shaftHz: number): void {
  const ballCount = 8 + rng.int(5);
  const ballToPitchRatio = rng.uniform(0.15, 0.25);
  const bpfoHz = (ballCount / 2) * shaftHz * (1 - ballToPitchRatio);
  const resonanceHz = rng.uniform(1000, 1400);
  // Damping ratio ζ of a bolted bearing housing is a few percent; the envelope decays as e^{-ζωt}.
  const dampingRatio = rng.uniform(0.03, 0.08);
  const decayPerS = dampingRatio * TWO_PI * resonanceHz;
  const impulseG = rng.uniform(0.05, 1.0);
  const loadZoneDepth = rng.uniform(0, 0.5);
  const shaftPhase = rng.uniform(0, TWO_PI);
  // The defect sits in the vertical load zone: strongest on y, weaker on x, little axially.
  const axisGain = [rng.uniform(0.3, 0.7), 1, rng.uniform(0.1, 0.3)];
  const periodS = 1 / bpfoHz;
  const windowS = WINDOW_SAMPLES / SAMPLE_RATE_HZ;
  // Start one period before the window so the window opens mid-ring, as a real capture would.
  for (
    let impactS = -rng.uniform(0, periodS);
    impactS < windowS;
    impactS += periodS * (1 + 0.01 * rng.normal())
  ) {
    const loadZone = 1 + loadZoneDepth * Math.cos(TWO_PI * shaftHz * impactS + shaftPhase);
    const amplitudeG = impulseG * loadZone * rng.uniform(0.8, 1.2);
    const ringPhase = rng.uniform(0, TWO_PI);
    const firstSample = Math.max(0, Math.ceil(impactS * SAMPLE_RATE_HZ));
    for (let n = firstSample; n < WINDOW_SAMPLES; n++) {
      const t = n / SAMPLE_RATE_HZ - impactS;
      const envelope = amplitudeG * Math.exp(-decayPerS * t);
      if (envelope < 1e-5) break;
      const ring = envelope * Math.sin(TWO_PI * resonanceHz * t + ringPhase);
      for (let axis = 0; axis < AXIS_COUNT; axis++) out[n * AXIS_COUNT + axis] += axisGain[axis] * ring;
    }
  }
}

/** One window of the given condition; severities are drawn so mild faults sit near healthy machines. */
export function generateVibrationWindow(rng: Rng, label: VibrationLabel): VibrationWindow {
  const out = new Float64Array(WINDOW_SAMPLES * AXIS_COUNT);
  const shaftHz = rng.uniform(20, 30);
  const lineHz = rng.next() < 0.5 ? 50 : 60;

  // Healthy baseline: residual imbalance, slight 2×, electrical 2× line frequency.
  let imbalanceG = rng.uniform(0.03, 0.12);
  let twoXG = rng.uniform(0.01, 0.04);
  let threeXG = rng.uniform(0.0, 0.015);
  let axialRatio = rng.uniform(0.1, 0.3);
  if (label === 'imbalance') imbalanceG += rng.uniform(0.06, 0.8);
  if (label === 'misalignment') {
    twoXG += rng.uniform(0.03, 0.4);
    threeXG += rng.uniform(0.01, 0.2);
    axialRatio += rng.uniform(0.3, 1.5);
  }
  addTone(out, orbitTone(rng, shaftHz, imbalanceG, imbalanceG * axialRatio));
  addTone(out, orbitTone(rng, 2 * shaftHz, twoXG, twoXG * axialRatio));
  addTone(out, orbitTone(rng, 3 * shaftHz, threeXG, threeXG * axialRatio));
  addTone(out, orbitTone(rng, 2 * lineHz, rng.uniform(0.005, 0.03), rng.uniform(0.002, 0.01)));
  if (label === 'bearing-fault') addBearingImpulses(out, rng, shaftHz);

  // White noise: a MEMS part's ~100–300 µg/√Hz over 1.6 kHz is 4–12 mg; flow and structure add more.
  const noiseG = rng.uniform(0.008, 0.03);
  const samplesG = new Float32Array(out.length);
  for (let i = 0; i < out.length; i++) samplesG[i] = out[i] + noiseG * rng.normal();
  return { samplesG, label };
}

/** A class-balanced data set; `count` windows, labels cycling so every class has the same share. */
export function generateVibrationDataset(rng: Rng, count: number): VibrationWindow[] {
  const windows: VibrationWindow[] = [];
  for (let i = 0; i < count; i++) windows.push(generateVibrationWindow(rng, LABELS[i % LABELS.length]));
  return windows;
}
