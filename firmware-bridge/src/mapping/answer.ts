import { isPlainObject } from '../codecs/codec.ts';
import type { Profile } from '../registry/profile-schema.ts';

/** What the gateway's inference path answers (InferService's response, or the fields the bridge uses). */
export interface InferAnswer {
  id?: string;
  model_version?: string;
  outputs?: { name: string; datatype: string; shape: number[]; data: unknown }[];
  output?: unknown;
  node: { id: string; cell?: string; distanceKm?: number };
  receipt?: unknown;
  [key: string]: unknown;
}

/** The model's answer reduced to what a downlink can carry. */
export interface AnswerSummary {
  label?: string;
  classIndex?: number;
  confidence?: number;
  probabilities?: Record<string, number>;
}

const flatNumbers = (data: unknown): number[] => (Array.isArray(data) ? (data.flat(Infinity) as unknown[]) : [data]).map(Number);

/**
 * A pipeline model answers `{ label, confidence, probabilities }`; a tensor model answers OIP outputs,
 * read as class scores (argmax) with the profile's labels. Label order is the profile's, else the
 * order of `probabilities` (the model's class order).
 */
export function summarizeAnswer(answer: InferAnswer, profile: Profile): AnswerSummary {
  const labels = profile.output.labels;
  if (isPlainObject(answer.output)) {
    const out = answer.output;
    const probabilities = isPlainObject(out.probabilities) ? (out.probabilities as Record<string, number>) : undefined;
    const order = labels ?? (probabilities ? Object.keys(probabilities) : undefined);
    const label = typeof out.label === 'string' ? out.label : undefined;
    const index = label !== undefined && order ? order.indexOf(label) : -1;
    return {
      ...(label !== undefined ? { label } : {}),
      ...(index >= 0 ? { classIndex: index } : {}),
      ...(typeof out.confidence === 'number' ? { confidence: out.confidence } : {}),
      ...(probabilities ? { probabilities } : {}),
    };
  }
  const outputs = answer.outputs ?? [];
  const tensor = profile.output.tensor ? outputs.find((o) => o.name === profile.output.tensor) : outputs[0];
  if (!tensor) return {};
  const scores = flatNumbers(tensor.data);
  if (scores.length === 0 || scores.some((s) => !Number.isFinite(s))) return {};
  let best = 0;
  scores.forEach((s, i) => (best = s > scores[best]! ? i : best));
  const isDistribution = scores.every((s) => s >= 0 && s <= 1) && Math.abs(scores.reduce((a, b) => a + b, 0) - 1) < 1e-3;
  // Without a label per score, classes are named by index: the order is what a downlink carries.
  const names = labels && labels.length === scores.length ? labels : scores.map((_, i) => String(i));
  const probabilities = isDistribution ? Object.fromEntries(names.map((l, i) => [l, scores[i]!])) : undefined;
  return {
    classIndex: best,
    ...(labels && labels.length === scores.length ? { label: labels[best]! } : {}),
    ...(isDistribution ? { confidence: scores[best]! } : {}),
    ...(probabilities ? { probabilities } : {}),
  };
}
