import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { sha256Hex } from '../encoding.ts';
import { MANIFEST_FILE_SUFFIX, modelManifestSchema, type ModelManifest } from '../schemas/manifest.ts';

export interface VerifiedArtifact {
  manifest: ModelManifest;
  bytes: Uint8Array;
  file: string;
}

export interface ModelDirProblem {
  file: string;
  message: string;
}

/** `foo.manifest.json` describes `foo.onnx` (or `foo` itself when that already ends in `.onnx`). */
export function artifactPathFor(manifestPath: string): string {
  const base = manifestPath.slice(0, -MANIFEST_FILE_SUFFIX.length);
  return base.endsWith('.onnx') ? base : `${base}.onnx`;
}

/** Reads one manifest and its artifact; refuses the artifact unless its SHA-256 equals the content id. */
export async function readVerifiedArtifact(manifestPath: string): Promise<VerifiedArtifact> {
  const parsed = modelManifestSchema.safeParse(JSON.parse(await readFile(manifestPath, 'utf8')));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`manifest ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const manifest = parsed.data;
  const file = artifactPathFor(manifestPath);
  const bytes = new Uint8Array(await readFile(file));
  const actual = await sha256Hex(bytes);
  if (actual !== manifest.contentId) {
    throw new Error(
      `artifact ${path.basename(file)} hashes to ${actual} but manifest ${manifest.name}@${manifest.version} names ${manifest.contentId}; refusing to load it`,
    );
  }
  return { manifest, bytes, file };
}

/**
 * Loads every model in a directory. A bad manifest or a hash mismatch is reported as a problem and the
 * other models still load: one broken file must not take a node's other models down.
 */
export async function readModelDir(
  dir: string,
): Promise<{ artifacts: VerifiedArtifact[]; problems: ModelDirProblem[] }> {
  const artifacts: VerifiedArtifact[] = [];
  const problems: ModelDirProblem[] = [];
  const names = (await readdir(dir)).filter((f) => f.endsWith(MANIFEST_FILE_SUFFIX)).sort();
  for (const name of names) {
    const file = path.join(dir, name);
    try {
      artifacts.push(await readVerifiedArtifact(file));
    } catch (err) {
      problems.push({ file, message: err instanceof Error ? err.message : String(err) });
    }
  }
  return { artifacts, problems };
}
