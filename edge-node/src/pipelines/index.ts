import { envWindowPipeline, vibrationWindowPipeline } from '../models/pipelines.ts';
import { ppocrRecPipeline } from './ppocr-rec.ts';
import type { Pipeline } from './pipeline.ts';
import { sileroVadPipeline } from './silero-vad.ts';

export type { Pipeline, PipelineRunOptions } from './pipeline.ts';
export { ctcGreedyDecode, type CtcResult } from './ctc-decode.ts';
export { pngToRecTensor, rgbToRecData, REC_HEIGHT_PX, REC_INPUT_NAME, REC_WIDTH_PX } from './ocr-tensor.ts';
export {
  decodePngToRgb,
  MAX_IMAGE_PIXELS,
  MAX_IMAGE_SIDE_PX,
  MAX_PNG_BYTES,
  type RgbImage,
} from './png-image.ts';
export { PPOCR_REC_PIPELINE_ID, ppocrRecPipeline } from './ppocr-rec.ts';
export {
  MAX_AUDIO_DURATION_MS,
  SILERO_VAD_PIPELINE_ID,
  sileroVadPipeline,
  speechProbabilities,
  VAD_FRAME_MS,
  type VadAnswer,
} from './silero-vad.ts';
export { SILERO_SEGMENT_DEFAULTS, speechSegments, type SpeechSegment } from './vad-segments.ts';
const PIPELINES: ReadonlyMap<string, Pipeline> = new Map([
  [sileroVadPipeline.id, sileroVadPipeline],
  [ppocrRecPipeline.id, ppocrRecPipeline],
  [vibrationWindowPipeline.id, vibrationWindowPipeline],
  [envWindowPipeline.id, envWindowPipeline],
]);

/** The pipeline a manifest's `pipeline` id names, or undefined when this node has none by that id. */
export function getPipeline(id: string): Pipeline | undefined {
  return PIPELINES.get(id);
}
