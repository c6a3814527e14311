import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
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
  await removeOldCopy({ dir, manifest });
  return `${base}.onnx`;
}

/**
 * Drops this model's copy under the old `name-version` file name, if one is there: a directory
 * written before the rename would otherwise hold the model twice. Only a manifest naming this very
 * name@version is removed (`a-b-c` may be `a@b-c`'s, which stays).
 */
async function removeOldCopy(options: { dir: string; manifest: ModelManifest }): Promise<void> {
  const { dir, manifest } = options;
  const old = path.join(dir, `${manifest.name}-${manifest.version}`);
  let held: unknown;
  try {
    held = JSON.parse(await readFile(`${old}${MANIFEST_FILE_SUFFIX}`, 'utf8'));
  } catch {
    return; // none there (or unreadable: readModelDir reports that one)
  }
  const h = held as { name?: unknown; version?: unknown };
  if (h.name !== manifest.name || h.version !== manifest.version) return;
  await rm(`${old}${MANIFEST_FILE_SUFFIX}`, { force: true });
  await rm(`${old}.onnx`, { force: true });
}
