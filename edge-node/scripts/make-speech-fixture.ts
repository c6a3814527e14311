/**
 * Makes edge-node/test/fixtures/speech-16k.wav: a short English sentence from espeak-ng, resampled
 * 22 050 Hz → 16 000 Hz mono PCM16 (what the silero-vad-v5 pipeline takes), with silence on both
 * sides so the test can check where the segment starts and ends. The committed file is what CI uses;
 * espeak-ng (Debian package `espeak-ng`) is needed only to run this script again.
 *
 *   PATH=/work/main/node_modules/.bin:$PATH node edge-node/scripts/make-speech-fixture.ts
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';

const SENTENCE = 'Meter reading: four seven two one.';
const WORDS_PER_MINUTE = 165;
const TARGET_RATE_HZ = 16_000;
/** Leading and trailing silence: ten 32 ms VAD frames of "no speech" on each side. */
const SILENCE_PAD_MS = 320;
/** |sample| at or under this counts as silence when trimming (≈ −50 dBFS of PCM16 full scale 32 767). */
const SILENCE_LEVEL = 100;
/** Half-width of the windowed-sinc kernel in input samples; 16 taps a side keeps aliasing well under PCM16 noise. */
const SINC_HALF_TAPS = 16;

const outFile = path.join(import.meta.dirname, '..', 'test', 'fixtures', 'speech-16k.wav');

function readWavPcm16Mono(wav: Buffer): { sampleRateHz: number; samples: Int16Array } {
  if (wav.toString('ascii', 0, 4) !== 'RIFF' || wav.toString('ascii', 8, 12) !== 'WAVE')
    throw new Error('not a WAV file');
  let offset = 12;
  let sampleRateHz = 0;
  while (offset + 8 <= wav.length) {
    const id = wav.toString('ascii', offset, offset + 4);
    // espeak-ng writes 0x7fffffff as the data size when it streams to stdout: clamp to what is there.
    const size = Math.min(wav.readUInt32LE(offset + 4), wav.length - offset - 8);
    if (id === 'fmt ') {
      const channels = wav.readUInt16LE(offset + 10);
      const bits = wav.readUInt16LE(offset + 22);
      if (channels !== 1 || bits !== 16)
        throw new Error(`expected mono PCM16, got ${channels} ch ${bits} bit`);
      sampleRateHz = wav.readUInt32LE(offset + 12);
    } else if (id === 'data') {
      const bytes = wav.subarray(offset + 8, offset + 8 + (size & ~1));
      return {
        sampleRateHz,
        samples: new Int16Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length)),
      };
    }
    offset += 8 + size + (size & 1);
  }
  throw new Error('WAV file has no data chunk');
}

/** Hann-windowed sinc resampling with the cutoff at the lower Nyquist frequency (no aliasing on downsampling). */
function resample(samples: Int16Array, fromHz: number, toHz: number): Float64Array {
  const cutoff = Math.min(fromHz, toHz) / 2 / fromHz; // cycles per input sample
  const out = new Float64Array(Math.floor((samples.length * toHz) / fromHz));
  for (let i = 0; i < out.length; i++) {
    const center = (i * fromHz) / toHz;
    let acc = 0;
    let weightSum = 0;
    for (let k = Math.ceil(center - SINC_HALF_TAPS); k <= Math.floor(center + SINC_HALF_TAPS); k++) {
      if (k < 0 || k >= samples.length) continue;
      const x = k - center;
      const sinc = x === 0 ? 2 * cutoff : Math.sin(2 * Math.PI * cutoff * x) / (Math.PI * x);
      const window = 0.5 + 0.5 * Math.cos((Math.PI * x) / SINC_HALF_TAPS);
      acc += samples[k]! * sinc * window;
      weightSum += sinc * window;
    }
    out[i] = weightSum === 0 ? 0 : acc / weightSum;
  }
  return out;
}

/** Cuts espeak-ng's own leading/trailing silence so the padding above is the only silence and is known exactly. */
function trimSilence(samples: Float64Array): Float64Array {
  const isSound = (v: number) => Math.abs(v) > SILENCE_LEVEL;
  const first = samples.findIndex(isSound);
  const last = samples.findLastIndex(isSound);
  return first < 0 ? samples.subarray(0, 0) : samples.subarray(first, last + 1);
}

function wavPcm16Mono(samples: Int16Array, sampleRateHz: number): Buffer {
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(36 + samples.byteLength, 4);
  header.write('WAVEfmt ', 8, 'ascii');
  header.writeUInt32LE(16, 16); // fmt chunk size
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(sampleRateHz, 24);
  header.writeUInt32LE(sampleRateHz * 2, 28); // byte rate
  header.writeUInt16LE(2, 32); // block align
  header.writeUInt16LE(16, 34); // bits per sample
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(samples.byteLength, 40);
  return Buffer.concat([header, Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength)]);
}

const wav = execFileSync('espeak-ng', ['-v', 'en', '-s', String(WORDS_PER_MINUTE), '--stdout', SENTENCE]);
const speech = readWavPcm16Mono(wav);
const resampled = trimSilence(resample(speech.samples, speech.sampleRateHz, TARGET_RATE_HZ));
const padSamples = (SILENCE_PAD_MS * TARGET_RATE_HZ) / 1000;
const out = new Int16Array(padSamples + resampled.length + padSamples);
for (let i = 0; i < resampled.length; i++)
  out[padSamples + i] = Math.max(-32768, Math.min(32767, Math.round(resampled[i]!)));
writeFileSync(outFile, wavPcm16Mono(out, TARGET_RATE_HZ));
console.log(
  `${outFile}: ${(out.length / TARGET_RATE_HZ).toFixed(2)} s, speech from ${SILENCE_PAD_MS} ms to ` +
    `${SILENCE_PAD_MS + Math.round((resampled.length * 1000) / TARGET_RATE_HZ)} ms (source ${speech.sampleRateHz} Hz)`,
);
