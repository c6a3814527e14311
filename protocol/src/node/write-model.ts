import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { MANIFEST_FILE_SUFFIX, type ModelManifest } from '../schemas/manifest.ts';

/**
 * The file name (without extension) a model is stored under: `name@version`. Neither a name nor a
 * version may hold an `@` (modelManifestSchema), so two models never share a file; the old
 * `name-version` form let `a-b@c` and `a@b-c` overwrite each other. Directories written with the old
 * names still load: `readModelDir` reads every `*.manifest.json`, whatever it is called.
 */
export function modelFileStem(manifest: Pick<ModelManifest, 'name' | 'version'>): string {
  return `${manifest.name}@${manifest.version}`;
}

/**
 * Writes an artifact and its manifest into a model directory. Both go through a temporary name and a
 * rename, so a crash never leaves a manifest that points at half an artifact.
 */
export async function writeModel(options: {
  dir: string;
  manifest: ModelManifest;
  bytes: Uint8Array;
}): Promise<string> {
  const { dir, manifest, bytes } = options;
  await mkdir(dir, { recursive: true });
  const base = path.join(dir, modelFileStem(manifest));
  await writeFile(`${base}.onnx.tmp`, bytes);
  await rename(`${base}.onnx.tmp`, `${base}.onnx`);
  await writeFile(`${base}${MANIFEST_FILE_SUFFIX}.tmp`, JSON.stringify(manifest, null, 2) + '\n');
  await rename(`${base}${MANIFEST_FILE_SUFFIX}.tmp`, `${base}${MANIFEST_FILE_SUFFIX}`);
  return `${base}.onnx`;
}
