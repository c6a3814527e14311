import { readModelDir } from '@hexedge/protocol/node';
import { MemoryModelCatalog } from '../catalog.ts';

/**
 * The gateway's origin registry: every hash-checked model in the models directory. A missing folder
 * is an empty registry (a gateway may serve only nodes that bring their own models); a bad manifest or
 * artifact is logged and left out, the rest served.
 */
export async function readOriginCatalog(options: {
  modelsDir: string;
  log: (line: string) => void;
}): Promise<MemoryModelCatalog> {
  const catalog = new MemoryModelCatalog();
  const models = await readModelDir(options.modelsDir).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT')
      throw new Error(`cannot read the origin registry ${options.modelsDir}: ${err.message}`);
    options.log(`origin registry ${options.modelsDir} does not exist: serving no model artifacts`);
    return { artifacts: [], problems: [] };
  });
  for (const a of models.artifacts) catalog.add(a.manifest, a.bytes);
  for (const p of models.problems) options.log(`origin registry: not serving ${p.file}: ${p.message}`);
  return catalog;
}
