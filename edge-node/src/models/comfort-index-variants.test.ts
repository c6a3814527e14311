import { maxAbsDifference, type Tensor } from '@hexedge/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LoadedModel } from '../backends/backend.ts';
import { OrtNodeBackend } from '../node/ort-node.ts';
import { buildComfortIndexModel, comfortIndexManifest } from './comfort-index.ts';
import { buildComfortIndexVariant } from './comfort-index-variants.ts';

// The releases the rollout tests roll out, run in onnxruntime-node against the model they replace.
const ROWS = [
  [22, 45, 600],
  [31, 70, 900],
  [24, 55, 2100],
  [29, 55, 900],
];
const readings: Tensor = {
  name: 'readings',
  datatype: 'FP32',
  shape: [ROWS.length, 3],
  data: Float32Array.from(ROWS.flat()),
};
const models: LoadedModel[] = [];
let run: (m: LoadedModel) => Promise<number[]>;

beforeAll(() => {
  run = async (m) => Array.from((await m.run([readings]))[0]!.data as Float32Array);
});
afterAll(async () => {
  for (const m of models) await m.release();
});

async function load(bytes: Uint8Array, manifest: Awaited<ReturnType<typeof comfortIndexManifest>>) {
  const model = await (await OrtNodeBackend.create({ workers: 0 })).load({ manifest, bytes });
  models.push(model);
  return model;
}

describe('comfort-index releases', () => {
  it('a retrained release is other bytes with the same answers; a mislabelled one answers wrong beyond the tolerance', async () => {
    const reference = buildComfortIndexModel();
    const v1 = await load(reference, await comfortIndexManifest(reference));
    const retrained = await buildComfortIndexVariant({ variant: 'retrained', version: '2' });
    const broken = await buildComfortIndexVariant({ variant: 'mislabelled', version: '3-broken' });
    expect(retrained.manifest).toMatchObject({ name: 'comfort-index', version: '2' });
    expect(retrained.manifest.contentId).not.toBe((await comfortIndexManifest(reference)).contentId);
    expect(broken.manifest.contentId).not.toBe(retrained.manifest.contentId);
    const expected = await run(v1);
    const tolerance = retrained.manifest.tolerance;
    expect(
      maxAbsDifference(await run(await load(retrained.bytes, retrained.manifest)), expected),
    ).toBeLessThanOrEqual(tolerance);
    expect(maxAbsDifference(await run(await load(broken.bytes, broken.manifest)), expected)).toBeGreaterThan(
      0.5,
    );
  });
});
