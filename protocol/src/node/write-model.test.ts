import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { sha256Hex } from '../encoding.ts';
import { MANIFEST_FILE_SUFFIX, type ModelManifest } from '../schemas/manifest.ts';
import { readModelDir } from './model-dir.ts';
import { writeModel } from './write-model.ts';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function model(name: string, version: string, byte: number) {
  const bytes = Uint8Array.of(byte, byte, byte);
  const manifest: ModelManifest = {
    name,
    version,
    task: 'test',
    description: '',
    contentId: await sha256Hex(bytes),
    sizeBytes: bytes.byteLength,
    inputs: [{ name: 'x', datatype: 'FP32', shape: [1] }],
    outputs: [{ name: 'y', datatype: 'FP32', shape: [1] }],
    batchable: false,
    quantization: { scheme: 'fp32' },
    tolerance: 1e-4,
    prefersAccelerator: false,
    license: 'Apache-2.0',
    source: 'test',
  };
  return { manifest, bytes };
}

describe('writeModel', () => {
  it('keeps a-b@c and a@b-c apart (the name-version file names collided)', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'hexedge-write-model-'));
    dirs.push(dir);
    const first = await model('a-b', 'c', 1);
    const second = await model('a', 'b-c', 2);
    const files = [await writeModel({ dir, ...first }), await writeModel({ dir, ...second })];
    expect(new Set(files).size).toBe(2);
    const { artifacts, problems } = await readModelDir(dir);
    expect(problems).toEqual([]);
    expect(artifacts.map((a) => `${a.manifest.name}@${a.manifest.version}`).sort()).toEqual([
      'a-b@c',
      'a@b-c',
    ]);
    expect(artifacts.map((a) => a.manifest.contentId).sort()).toEqual(
      [first.manifest.contentId, second.manifest.contentId].sort(),
    );
  });

  it('still reads a directory written with the old name-version file names', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'hexedge-write-model-'));
    dirs.push(dir);
    const old = await model('comfort-index', '1', 3);
    await writeFile(path.join(dir, 'comfort-index-1.onnx'), old.bytes);
    await writeFile(path.join(dir, `comfort-index-1${MANIFEST_FILE_SUFFIX}`), JSON.stringify(old.manifest));
    const { artifacts, problems } = await readModelDir(dir);
    expect(problems).toEqual([]);
    expect(artifacts.map((a) => a.manifest.contentId)).toEqual([old.manifest.contentId]);
    // Written again under the new name, the model is held once, not twice.
    await writeModel({ dir, ...old });
    const again = await readModelDir(dir);
    expect(again.artifacts.map((a) => path.basename(a.file))).toEqual(['comfort-index@1.onnx']);
  });
});
