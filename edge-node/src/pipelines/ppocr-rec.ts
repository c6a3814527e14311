import { HexEdgeError } from '@hexedge/protocol';
import { encode } from 'fast-png';
import { ctcGreedyDecode, type CtcResult } from './ctc-decode.ts';
import { base64ByteLength, base64ToBytes, requireBase64, requireFields } from './domain-input.ts';
import { pngToRecTensor } from './ocr-tensor.ts';
import type { Pipeline, PipelineRunOptions } from './pipeline.ts';
import { MAX_PNG_BYTES } from './png-image.ts';

export const PPOCR_REC_PIPELINE_ID = 'ppocr-rec-v4';
/** Decimal places of the answer's confidence. */
const CONFIDENCE_DECIMALS = 4;

/**
 * `{ image: base64 PNG }` of one text line (a meter's digit window) → `{ text, confidence }`. The manifest's
 * `labels` are the model's classes (blank, the dictionary, space), so the dictionary travels with the model.
 */
/** A blank 64×32 crop for the warm-up run (made once, on first use). */
let warmUpPng: string | undefined;

export const ppocrRecPipeline: Pipeline = {
  id: PPOCR_REC_PIPELINE_ID,
  warmUpInput() {
    warmUpPng ??= btoa(String.fromCharCode(...encode({ width: 64, height: 32, channels: 3, data: new Uint8Array(64 * 32 * 3).fill(255) })));
    return { image: warmUpPng };
  },
  async run(options: PipelineRunOptions): Promise<CtcResult> {
    const { input, manifest, runModel } = options;
    const fields = requireFields({ input, pipelineId: PPOCR_REC_PIPELINE_ID, fields: ['image'] });
    const image = requireBase64('image', fields.image);
    const sizeBytes = base64ByteLength(image);
    if (sizeBytes > MAX_PNG_BYTES) {
      throw new HexEdgeError(
        'INVALID_REQUEST',
        `image is ${sizeBytes} bytes; at most ${MAX_PNG_BYTES} (2 MiB)`,
      );
    }
    const tensor = pngToRecTensor(base64ToBytes(image));
    const [output] = await runModel([tensor]);
    const labels = manifest.labels;
    if (!output || output.shape.length !== 3 || !labels || output.shape[2] !== labels.length) {
      throw new HexEdgeError(
        'INTERNAL',
        `model ${manifest.name} returned shape ${JSON.stringify(output?.shape)} for ${labels?.length ?? 'no'} labels; expected [1, steps, labels]`,
      );
    }
    const [, steps, classes] = output.shape as [number, number, number];
    const result = ctcGreedyDecode({
      probabilities: output.data as ArrayLike<number>,
      steps,
      classes,
      labels,
    });
    return { text: result.text, confidence: Number(result.confidence.toFixed(CONFIDENCE_DECIMALS)) };
  },
};
