import {
  isValidFPort,
  type Codec,
  type CodecContext,
  type CodecLogLine,
  type DecodedPayload,
} from '../codecs/codec.ts';
import type { Encoding } from '../registry/profile-schema.ts';
import type { AnswerSummary } from './answer.ts';

export type EncodeOutcome =
  | {
      ok: true;
      bytes: Uint8Array;
      /** The port a codec's encodeDownlink chose; absent: the profile's `downlink.fPort`. */
      fPort?: number;
      /** The codec's decodeDownlink of these bytes. */
      decoded?: DecodedPayload;
      warnings?: string[];
      logs?: CodecLogLine[];
    }
  | { ok: false; reason: string; logs?: CodecLogLine[] };

/** Confidence travels as a whole percent: a byte, and finer than any model is calibrated. */
const toPercent = (p: number) => Math.max(0, Math.min(100, Math.round(p * 100)));
/** Probabilities as 0–255: each class in one byte, 0.4 % steps. */
const toByteScale = (p: number) => Math.max(0, Math.min(255, Math.round(p * 255)));

/**
 * The answer as bytes for one encoding; a missing piece (no class index) is a reason, not a throw.
 * `encoder` is the codec for `codec` and `js` encodings (the registry builds it once per profile).
 */
export async function encodeAnswer(options: {
  encoding: Encoding;
  summary: AnswerSummary;
  encoder?: Codec | undefined;
  ctx: CodecContext;
}): Promise<EncodeOutcome> {
  const { encoding, summary, encoder, ctx } = options;
  const needIndex = (): EncodeOutcome | undefined =>
    summary.classIndex === undefined || summary.classIndex > 255
      ? {
          ok: false,
          reason: `${encoding.kind} needs a class index 0–255; the answer gave ${summary.label === undefined ? 'no label' : `label '${summary.label}' not in the profile's labels`}`,
        }
      : undefined;
  switch (encoding.kind) {
    case 'class-index':
      return needIndex() ?? { ok: true, bytes: Uint8Array.of(summary.classIndex!) };
    case 'label-confidence':
      if (summary.confidence === undefined)
        return { ok: false, reason: 'label-confidence needs a confidence; the answer has none' };
      return (
        needIndex() ?? { ok: true, bytes: Uint8Array.of(summary.classIndex!, toPercent(summary.confidence)) }
      );
    case 'probabilities':
      if (!summary.probabilities)
        return { ok: false, reason: 'probabilities encoding needs class probabilities; the answer has none' };
      return { ok: true, bytes: Uint8Array.from(Object.values(summary.probabilities), toByteScale) };
    case 'codec':
    case 'js': {
      if (!encoder) return { ok: false, reason: `${encoding.kind} encoder: none was built for this profile` };
      const result = await encoder.encode(summary, ctx);
      const logs = result.logs ? { logs: result.logs } : {};
      if (!result.data)
        return { ok: false, reason: `${encoding.kind} encoder: ${result.errors.join('; ')}`, ...logs };
      // Any Codec, not only a JS one, must name a LoRaWAN application port.
      if (result.fPort !== undefined && !isValidFPort(result.fPort))
        return {
          ok: false,
          reason: `${encoding.kind} encoder chose fPort ${result.fPort}: LoRaWAN application ports are 1–223`,
          ...logs,
        };
      return {
        ok: true,
        bytes: result.data,
        ...(result.fPort !== undefined ? { fPort: result.fPort } : {}),
        ...(result.decoded ? { decoded: result.decoded } : {}),
        ...(result.warnings.length > 0 ? { warnings: result.warnings } : {}),
        ...logs,
      };
    }
  }
}
