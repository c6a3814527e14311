import { MANIFEST_FILE_SUFFIX, type ModelManifest } from '@hexedge/edge-node';
import { formatBytes, readVerifiedArtifact } from '@hexedge/edge-node/node';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { formatTable, percent } from './text-table.ts';

export interface HeldModel {
  file: string;
  /** Absent when the manifest itself does not parse. */
  manifest: Partial<ModelManifest> | undefined;
  verified: boolean;
  problem?: string;
}

/**
 * Every manifest in a models directory, each checked as a node would load it (schema, then the
 * artifact's SHA-256 against the content id). Unlike `readModelDir` it keeps the failures' names,
 * so an operator sees which model would not load and why.
 */
export async function listHeldModels(modelsDir: string): Promise<HeldModel[]> {
  const names = await readdir(modelsDir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [] as string[];
    throw new Error(`cannot read models directory ${modelsDir}: ${err.message}`);
  });
  const held: HeldModel[] = [];
  for (const name of names.filter((f) => f.endsWith(MANIFEST_FILE_SUFFIX)).sort()) {
    const file = path.join(modelsDir, name);
    try {
      held.push({ file, manifest: (await readVerifiedArtifact(file)).manifest, verified: true });
    } catch (err) {
      const manifest = await readFile(file, 'utf8').then((t) => JSON.parse(t) as Partial<ModelManifest>, () => undefined);
      held.push({ file, manifest, verified: false, problem: (err as Error).message });
    }
  }
  return held;
}

/** The held-out accuracy that matches the artifact's own quantization (build writes both in each manifest). */
function accuracyOf(m: Partial<ModelManifest>): number | undefined {
  const scheme = m.quantization?.scheme ?? 'fp32';
  const values = m.accuracy ?? {};
  return values[scheme] ?? Object.values(values)[0];
}

export function formatHeldModels(held: HeldModel[]): string {
  const rows = held.map(({ manifest: m, verified }) => [
    m?.name ?? '?',
    m?.version ?? '?',
    m?.contentId?.slice(0, 12) ?? '?',
    typeof m?.sizeBytes === 'number' ? formatBytes(m.sizeBytes) : '?',
    m?.quantization?.scheme ?? (m ? 'fp32' : '?'),
    m ? percent(accuracyOf(m)) : '-',
    verified ? 'yes' : 'no',
  ]);
  const table = formatTable(['NAME', 'VERSION', 'CONTENT ID', 'SIZE', 'QUANT', 'ACCURACY', 'VERIFIED'], rows);
  const problems = held.filter((h) => h.problem).map((h) => `  ${path.basename(h.file)}: ${h.problem}`);
  return problems.length > 0 ? `${table}\nnot loadable:\n${problems.join('\n')}` : table;
}
