import type { Tensor } from '@hexedge/protocol';
import { encode } from 'fast-png';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { LoadedModel } from '../backends/backend.ts';
import { OrtNodeBackend } from '../node/ort-node.ts';
import { pngToRecTensor } from './ocr-tensor.ts';
import { ppocrRecPipeline } from './ppocr-rec.ts';
import { ppocrRecModel, type ThirdPartyModel } from '../node/third-party.ts';

/** Camera-like crops of a meter's digit window (scripts/make-meter-fixtures.ts). */
const READINGS = ['04721', '13958', '0072.5'];
const fixture = (reading: string): Buffer =>
  readFileSync(path.join(import.meta.dirname, `../../test/fixtures/meter-${reading}.png`));

let model: ThirdPartyModel;
let loaded: LoadedModel;

beforeAll(async () => {
  model = await ppocrRecModel();
  loaded = await (await OrtNodeBackend.create()).load(model);
});

function ocr(input: unknown): Promise<{ text: string; confidence: number }> {
  return ppocrRecPipeline.run({
    input,
    manifest: model.manifest,
    runModel: (inputs: Tensor[]) => loaded.run(inputs),
  }) as Promise<{
    text: string;
    confidence: number;
  }>;
}

describe('ppocr-rec-v4 pipeline (real model)', () => {
  it.each(READINGS)('reads the meter reading %s', async (reading) => {
    const answer = await ocr({ image: fixture(reading).toString('base64') });
    expect(answer.text).toBe(reading);
    expect(answer.confidence).toBeGreaterThan(0.9);
  });

  it('turns a PNG into the raw [1, 3, 48, 320] FP32 tensor, normalised to [-1, 1] and padded with 0', () => {
    const tensor = pngToRecTensor(fixture('04721'));
    expect(tensor).toMatchObject({ name: 'x', datatype: 'FP32', shape: [1, 3, 48, 320] });
    expect(tensor.data).toHaveLength(3 * 48 * 320);
    const values = tensor.data as number[];
    expect(Math.min(...values)).toBeGreaterThanOrEqual(-1);
    expect(Math.max(...values)).toBeLessThanOrEqual(1);
    // The 149×65 crop scales to ceil(48 · 149 / 65) = 111 columns; the rest is padding.
    expect(values.slice(200, 320).every((v) => v === 0)).toBe(true);
    expect(values[110]).not.toBe(0);
  });

  it('refuses what is not a base64 PNG, or is too large, with a message naming the value', async () => {
    const tooWide = encode({ width: 5000, height: 4, data: new Uint8Array(5000 * 4), channels: 1 });
    const cases: [unknown, RegExp][] = [
      [{ image: 'data:image/png;base64,iVBOR' }, /image is not valid base64: character ":" at offset 4/],
      [{ image: Buffer.from('hello, world').toString('base64') }, /image is not a PNG/],
      [{ image: Buffer.from(tooWide).toString('base64') }, /image is 5000×4 px/],
      [{ image: 'A'.repeat(3 * 1024 * 1024) }, /image is 2359296 bytes; at most 2097152/],
      [{ picture: 'iVBOR' }, /has no field 'picture'/],
      [{}, /image must be a base64 string, got nothing/],
    ];
    for (const [input, message] of cases) {
      await expect(ocr(input)).rejects.toMatchObject({
        code: 'INVALID_REQUEST',
        message: expect.stringMatching(message),
      });
    }
  });
});
