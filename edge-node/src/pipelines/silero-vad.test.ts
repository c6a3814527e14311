import type { Tensor } from '@hexedge/protocol';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { OrtNodeBackend } from '../node/ort-node.ts';
import type { LoadedModel } from '../backends/backend.ts';
import { createRng } from '../toolchain/prng.ts';
import { sileroVadPipeline, type VadAnswer } from './silero-vad.ts';
import { sileroVadModel, type ThirdPartyModel } from '../node/third-party.ts';

/** espeak-ng's "Meter reading: four seven two one." at 16 kHz, speech from 320 ms to 2536 ms (scripts/make-speech-fixture.ts). */
const SPEECH_WAV = path.join(import.meta.dirname, '../../test/fixtures/speech-16k.wav');
const SPEECH_START_MS = 320;
const SPEECH_END_MS = 2536;
const WAV_HEADER_BYTES = 44;
const RATE_HZ = 16_000;
/** White noise at −20 dBFS RMS (0.1 of full scale): a loud fan or road noise, well over a quiet room. */
const NOISE_RMS = 0.1;

let model: ThirdPartyModel;
let loaded: LoadedModel;

beforeAll(async () => {
  model = await sileroVadModel();
  loaded = await (await OrtNodeBackend.create()).load(model);
});

function vad(input: unknown): Promise<VadAnswer> {
  return sileroVadPipeline.run({
    input,
    manifest: model.manifest,
    runModel: (inputs: Tensor[]) => loaded.run(inputs),
  }) as Promise<VadAnswer>;
}

const base64 = (samples: Int16Array): string =>
  Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength).toString('base64');
const speechPcm16 = (): Int16Array => {
  const wav = readFileSync(SPEECH_WAV);
  return new Int16Array(wav.buffer.slice(wav.byteOffset + WAV_HEADER_BYTES, wav.byteOffset + wav.byteLength));
};
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('silero-vad-v5 pipeline (real model)', () => {
  it('fires on speech, with one segment per phrase inside the spoken span', async () => {
    const samples = speechPcm16();
    const answer = await vad({ audio: base64(samples), sampleRateHz: RATE_HZ });
    expect(answer.frameMs).toBe(32);
    expect(answer.probabilities).toHaveLength(Math.ceil(samples.length / 512));
    expect(answer.speech).toBe(true);
    // "Meter reading: | four seven two one." — the colon's pause splits it in two.
    expect(answer.segments.length).toBeGreaterThanOrEqual(1);
    expect(answer.segments[0]!.startMs).toBeGreaterThanOrEqual(SPEECH_START_MS - 64);
    expect(answer.segments[0]!.startMs).toBeLessThanOrEqual(SPEECH_START_MS + 128);
    expect(answer.segments.at(-1)!.endMs).toBeGreaterThanOrEqual(SPEECH_END_MS - 256);
    expect(answer.segments.at(-1)!.endMs).toBeLessThanOrEqual(SPEECH_END_MS + 256);
    const inSpeech = answer.probabilities.filter(
      (_, i) => i * 32 >= SPEECH_START_MS + 64 && (i + 1) * 32 <= SPEECH_END_MS - 64,
    );
    const leadingSilence = answer.probabilities.slice(0, SPEECH_START_MS / 32);
    expect(mean(inSpeech)).toBeGreaterThan(0.8);
    expect(Math.max(...leadingSilence)).toBeLessThan(0.1);
  });

  it('stays quiet on digital silence and on white noise at −20 dBFS', async () => {
    const silence = await vad({ audio: base64(new Int16Array(2 * RATE_HZ)), sampleRateHz: RATE_HZ });
    expect(silence.speech).toBe(false);
    expect(silence.segments).toEqual([]);
    expect(Math.max(...silence.probabilities)).toBeLessThan(0.1);

    const rng = createRng(7);
    const noise = Int16Array.from({ length: 2 * RATE_HZ }, () =>
      Math.round(rng.normal() * NOISE_RMS * 32768),
    );
    const noisy = await vad({ audio: base64(noise), sampleRateHz: RATE_HZ });
    expect(noisy.speech).toBe(false);
    expect(Math.max(...noisy.probabilities)).toBeLessThan(0.35);
  });

  it('reads 8 kHz audio natively (256-sample frames, still 32 ms)', async () => {
    const wide = speechPcm16();
    // Pairwise mean: a crude low-pass before halving the rate, enough for speech under 4 kHz.
    const narrow = Int16Array.from(
      { length: wide.length >> 1 },
      (_, i) => (wide[2 * i]! + wide[2 * i + 1]!) >> 1,
    );
    const answer = await vad({ audio: base64(narrow), sampleRateHz: 8000 });
    expect(answer.probabilities).toHaveLength(Math.ceil(narrow.length / 256));
    expect(answer.speech).toBe(true);
    expect(answer.segments[0]!.startMs).toBeLessThanOrEqual(SPEECH_START_MS + 128);
  });

  it('starts every request from a zero state', async () => {
    const speech = base64(speechPcm16());
    const silence = base64(new Int16Array(RATE_HZ));
    const before = await vad({ audio: silence, sampleRateHz: RATE_HZ });
    await vad({ audio: speech, sampleRateHz: RATE_HZ });
    const after = await vad({ audio: silence, sampleRateHz: RATE_HZ });
    expect(after.probabilities).toEqual(before.probabilities);
  });

  it('refuses bad audio with a message naming the value', async () => {
    const ok = base64(new Int16Array(512));
    const cases: [unknown, RegExp][] = [
      [
        { audio: 'not base64!', sampleRateHz: RATE_HZ },
        /audio is not valid base64: character " " at offset 3/,
      ],
      [{ audio: 42, sampleRateHz: RATE_HZ }, /audio must be a base64 string, got 42/],
      [
        { audio: Buffer.from([1, 2, 3]).toString('base64'), sampleRateHz: RATE_HZ },
        /audio is 3 bytes, an odd length/,
      ],
      [{ audio: '', sampleRateHz: RATE_HZ }, /audio is empty/],
      [{ audio: ok, sampleRateHz: 44_100 }, /sampleRateHz must be one of 16000, 8000, got 44100/],
      [{ audio: ok }, /sampleRateHz must be one of 16000, 8000, got nothing/],
      [{ audio: ok, sampleRateHz: RATE_HZ, sampleRate: RATE_HZ }, /has no field 'sampleRate'/],
      [
        { audio: base64(new Int16Array(31 * RATE_HZ)), sampleRateHz: RATE_HZ },
        /audio is 31.00 s long at 16000 Hz; at most 30 s/,
      ],
      ['just a string', /takes an object with audio, sampleRateHz, got "just a string"/],
    ];
    for (const [input, message] of cases) {
      await expect(vad(input)).rejects.toMatchObject({
        code: 'INVALID_REQUEST',
        message: expect.stringMatching(message),
      });
    }
  });
});
