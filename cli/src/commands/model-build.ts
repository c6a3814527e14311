import { buildProjectModels, formatBytes, PROJECT_MODELS } from '@hexedge/edge-node/node';
import { formatTable, percent } from './text-table.ts';

/** `hexedge model build`: trains the project's models (deterministic per seed) into a models directory. */
export async function modelBuild(options: { outDir: string; only?: string; seed?: number }, log: (m: string) => void): Promise<string> {
  const names = PROJECT_MODELS.map((d) => d.name);
  if (options.only && !names.includes(options.only)) throw new Error(`--only ${JSON.stringify(options.only)} is not a project model (models: ${names.join(', ')})`);
  log(`training ${options.only ?? names.join(', ')} into ${options.outDir} (deterministic, a few seconds)…`);
  const built = await buildProjectModels({
    outDir: options.outDir,
    ...(options.only ? { only: [options.only] } : {}),
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
  });
  const rows = built.map(({ manifest: m, onnxPath }) => [
    m.name,
    m.version,
    m.contentId.slice(0, 12),
    formatBytes(m.sizeBytes),
    m.quantization.scheme,
    percent(m.accuracy?.[m.quantization.scheme]),
    onnxPath,
  ]);
  return formatTable(['NAME', 'VERSION', 'CONTENT ID', 'SIZE', 'QUANT', 'ACCURACY', 'FILE'], rows);
}
