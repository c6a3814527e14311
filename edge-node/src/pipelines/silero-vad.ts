import { HexEdgeError, type Tensor } from '@hexedge/protocol';
import { base64ByteLength, base64ToBytes, describe, requireBase64, requireFields } from './domain-input.ts';
import { pcm16LeToFloat32 } from './pcm16.ts';
import type { Pipeline, PipelineRunOptions } from './pipeline.ts';
import { SILERO_SEGMENT_DEFAULTS, speechSegments, type SpeechSegment } from './vad-segments.ts';

export const SILERO_VAD_PIPELINE_ID = 'silero-vad-v5';

/**
 * Silero VAD v5 takes 512-sample frames at 16 kHz and 256 at 8 kHz (32 ms either way), each preceded
 * by the last 64 (32) samples of the previous frame, so a word onset on a frame boundary is seen whole
 * (silero-vad `OnnxWrapper.__call__`; vad-web's `Silero.process` does the same). 8 kHz is native to
 * the model, so telephone audio needs no resampling.
 */
const FRAMING_BY_RATE_HZ: ReadonlyMap<number, { frameSamples: number; contextSamples: number }> = new Map([
  [16_000, { frameSamples: 512, contextSamples: 64 }],
  [8_000, { frameSamples: 256, contextSamples: 32 }],
]);
export const VAD_FRAME_MS = (512 / 16_000) * 1000;
/** The recurrent state: [2 (h, c), batch 1, 128 units]; zero at the start of every request. */
const STATE_SHAPE = [2, 1, 128];
const STATE_ELEMENTS = 2 * 1 * 128;
/** One request is bounded: 30 s is 938 model runs, tens of milliseconds of CPU. */
export const MAX_AUDIO_DURATION_MS = 30_000;
const PCM16_BYTES_PER_SAMPLE = 2;
/** Decimal places of the answer's probabilities (spot checks compare model tensors, not answers). */
const PROBABILITY_DECIMALS = 4;

export interface VadAnswer {
  frameMs: number;
  probabilities: number[];
  speech: boolean;
  segments: SpeechSegment[];
}

/** `{ audio: base64 PCM16 LE mono, sampleRateHz: 16000 | 8000 }` → per-frame speech probability and segments. */
export const sileroVadPipeline: Pipeline = {
  id: SILERO_VAD_PIPELINE_ID,
  // One frame of silence: the state and sample-rate tensors make zero tensors invalid input.
  warmUpInput: () => ({ audio: btoa('\0'.repeat(1024)), sampleRateHz: 16_000 }),
  async run(options: PipelineRunOptions): Promise<VadAnswer> {
    const { samples, sampleRateHz } = parseVadInput(options.input);
    const probabilities = await speechProbabilities({ samples, sampleRateHz, runModel: options.runModel });
    const durationMs = (samples.length / sampleRateHz) * 1000;
    const segments = speechSegments({ probabilities, frameMs: VAD_FRAME_MS, ...SILERO_SEGMENT_DEFAULTS }).map(
      (s) => ({
        startMs: s.startMs,
        // The last frame is zero-padded; the segment ends where the audio does.
        endMs: Math.min(s.endMs, Math.round(durationMs)),
      }),
    );
    return {
      frameMs: VAD_FRAME_MS,
      probabilities: probabilities.map((p) => Number(p.toFixed(PROBABILITY_DECIMALS))),
      speech: segments.length > 0,
      segments,
    };
  },
};

function parseVadInput(input: unknown): { samples: Float32Array; sampleRateHz: number } {
  const fields = requireFields({
    input,
    pipelineId: SILERO_VAD_PIPELINE_ID,
    fields: ['audio', 'sampleRateHz'],
  });
  const sampleRateHz = fields.sampleRateHz;
  if (typeof sampleRateHz !== 'number' || !FRAMING_BY_RATE_HZ.has(sampleRateHz)) {
    throw new HexEdgeError(
      'INVALID_REQUEST',
      `sampleRateHz must be one of ${[...FRAMING_BY_RATE_HZ.keys()].join(', ')}, got ${describe(sampleRateHz)}`,
    );
  }
  const audio = requireBase64('audio', fields.audio);
  const sizeBytes = base64ByteLength(audio);
  if (sizeBytes === 0)
    throw new HexEdgeError('INVALID_REQUEST', 'audio is empty: send at least one PCM16 sample');
  if (sizeBytes % PCM16_BYTES_PER_SAMPLE !== 0) {
    throw new HexEdgeError(
      'INVALID_REQUEST',
      `audio is ${sizeBytes} bytes, an odd length: PCM16 takes 2 bytes a sample`,
    );
  }
  const durationMs = (sizeBytes / PCM16_BYTES_PER_SAMPLE / sampleRateHz) * 1000;
  if (durationMs > MAX_AUDIO_DURATION_MS) {
    throw new HexEdgeError(
      'INVALID_REQUEST',
      `audio is ${(durationMs / 1000).toFixed(2)} s long at ${sampleRateHz} Hz; at most ${MAX_AUDIO_DURATION_MS / 1000} s per request`,
    );
  }
  return { samples: pcm16LeToFloat32(base64ToBytes(audio)), sampleRateHz };
}

/**
 * Runs the model once per frame, carrying the state and the context samples from one run to the next.
 * A last partial frame is zero-padded, as silero-vad's `get_speech_timestamps` does.
 */
export async function speechProbabilities(options: {
  samples: Float32Array;
  sampleRateHz: number;
  runModel: (inputs: Tensor[]) => Promise<Tensor[]>;
}): Promise<number[]> {
  const { samples, sampleRateHz, runModel } = options;
  const framing = FRAMING_BY_RATE_HZ.get(sampleRateHz);
  if (!framing) throw new HexEdgeError('INVALID_REQUEST', `sampleRateHz ${sampleRateHz} is not supported`);
  const { frameSamples, contextSamples } = framing;
  const windowSamples = contextSamples + frameSamples;
  const frameCount = Math.ceil(samples.length / frameSamples);
  const sr: Tensor = { name: 'sr', datatype: 'INT64', shape: [], data: [sampleRateHz] };
  let state: Tensor['data'] = new Array<number>(STATE_ELEMENTS).fill(0);
  let context = new Float32Array(contextSamples);
  const probabilities: number[] = [];
  for (let frame = 0; frame < frameCount; frame++) {
    const window = new Float32Array(windowSamples);
    window.set(context, 0);
    window.set(samples.subarray(frame * frameSamples, (frame + 1) * frameSamples), contextSamples);
    context = window.slice(windowSamples - contextSamples);
    const outputs = await runModel([
      { name: 'input', datatype: 'FP32', shape: [1, windowSamples], data: window },
      { name: 'state', datatype: 'FP32', shape: STATE_SHAPE, data: state },
      sr,
    ]);
    const probability = outputs.find((t) => t.name === 'output')?.data[0];
    const next = outputs.find((t) => t.name === 'stateN');
    if (typeof probability !== 'number' || next?.data.length !== STATE_ELEMENTS) {
      throw new HexEdgeError(
        'INTERNAL',
        `silero-vad returned no 'output' probability or a malformed 'stateN' at frame ${frame}`,
      );
    }
    probabilities.push(probability);
    state = next.data;
  }
  return probabilities;
}
