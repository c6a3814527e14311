/**
 * Turns per-frame speech probabilities into speech segments with hysteresis, as silero-vad's
 * `get_speech_timestamps` does: a segment opens at a frame at or over the positive threshold, and
 * closes only after `minSilenceMs` of frames under the lower negative threshold, so a word's quiet
 * consonants do not split it. Segments shorter than `minSpeechMs` are clicks or coughs and are dropped.
 */

export interface SpeechSegment {
  startMs: number;
  endMs: number;
}

export interface SegmentOptions {
  probabilities: readonly number[];
  frameMs: number;
  positiveThreshold: number;
  negativeThreshold: number;
  minSpeechMs: number;
  minSilenceMs: number;
}

/**
 * silero-vad's `get_speech_timestamps` defaults (threshold 0.5, neg_threshold = threshold − 0.15,
 * min_speech_duration_ms 250, min_silence_duration_ms 100). vad-web's real-time defaults (0.3/0.25,
 * 400 ms, 1400 ms redemption) suit turn-taking in a live call rather than marking where speech is.
 */
export const SILERO_SEGMENT_DEFAULTS = {
  positiveThreshold: 0.5,
  negativeThreshold: 0.5 - 0.15,
  minSpeechMs: 250,
  minSilenceMs: 100,
} as const;

export function speechSegments(options: SegmentOptions): SpeechSegment[] {
  const { probabilities, frameMs, positiveThreshold, negativeThreshold, minSpeechMs, minSilenceMs } = options;
  const segments: SpeechSegment[] = [];
  let startFrame: number | undefined;
  let silenceStartFrame: number | undefined;
  const close = (endFrame: number): void => {
    if (startFrame !== undefined && (endFrame - startFrame) * frameMs >= minSpeechMs) {
      segments.push({ startMs: startFrame * frameMs, endMs: endFrame * frameMs });
    }
    startFrame = undefined;
    silenceStartFrame = undefined;
  };
  for (let frame = 0; frame < probabilities.length; frame++) {
    const p = probabilities[frame]!;
    if (startFrame === undefined) {
      if (p >= positiveThreshold) startFrame = frame;
      continue;
    }
    if (p >= positiveThreshold) {
      silenceStartFrame = undefined;
    } else if (p < negativeThreshold) {
      silenceStartFrame ??= frame;
      if ((frame + 1 - silenceStartFrame) * frameMs >= minSilenceMs) close(silenceStartFrame);
    }
    // Between the thresholds: neither more speech nor silence; an open silence run keeps counting.
  }
  close(probabilities.length);
  return segments;
}
