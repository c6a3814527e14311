import type { Codec, CodecContext } from '../codecs/codec.ts';
import { JsCodec } from '../codecs/js-codec.ts';
import type { Encoding } from '../registry/profile-schema.ts';
import type { AnswerSummary } from './answer.ts';

export type EncodeOutcome = { ok: true; bytes: Uint8Array } | { ok: false; reason: string };

/** Confidence travels as a whole percent: a byte, and finer than any model is calibrated. */
const toPercent = (p: number) => Math.max(0, Math.min(100, Math.round(p * 100)));
/** Probabilities as 0–255: each class in one byte, 0.4 % steps. */
const toByteScale = (p: number) => Math.max(0, Math.min(255, Math.round(p * 255)));

/** The answer as bytes for one encoding; a missing piece (no class index) is a reason, not a throw. */
export async function encodeAnswer(options: { encoding: Encoding; summary: AnswerSummary; codec: Codec; ctx: CodecContext }): Promise<EncodeOutcome> {
  const { encoding, summary, codec, ctx } = options;
  const needIndex = (): EncodeOutcome | undefined =>
    summary.classIndex === undefined || summary.classIndex > 255
      ? { ok: false, reason: `${encoding.kind} needs a class index 0–255; the answer gave ${summary.label === undefined ? 'no label' : `label '${summary.label}' not in the profile's labels`}` }
      : undefined;
  switch (encoding.kind) {
    case 'class-index':
      return needIndex() ?? { ok: true, bytes: Uint8Array.of(summary.classIndex!) };
    case 'label-confidence':
      if (summary.confidence === undefined) return { ok: false, reason: 'label-confidence needs a confidence; the answer has none' };
      return needIndex() ?? { ok: true, bytes: Uint8Array.of(summary.classIndex!, toPercent(summary.confidence)) };
    case 'probabilities':
      if (!summary.probabilities) return { ok: false, reason: 'probabilities encoding needs class probabilities; the answer has none' };
      return { ok: true, bytes: Uint8Array.from(Object.values(summary.probabilities), toByteScale) };
    case 'codec':
    case 'js': {
      const encoder = encoding.kind === 'js' ? new JsCodec({ source: encoding.source, ...(encoding.timeoutMs ? { timeoutMs: encoding.timeoutMs } : {}), ...(encoding.memoryBytes ? { memoryBytes: encoding.memoryBytes } : {}) }) : codec;
      const result = await encoder.encode(summary, ctx);
      return result.data ? { ok: true, bytes: result.data } : { ok: false, reason: `${encoding.kind} encoder: ${result.errors.join('; ')}` };
    }
  }
}
