import { buildComfortIndexModel, comfortIndexManifest } from '@hexedge/edge-node';
import { writeModel } from '@hexedge/edge-node/node';

/**
 * Builds the models `hexedge dev` serves into the shared models directory. The builds are
 * deterministic, so rebuilding on every start gives byte-identical artifacts and the same content ids.
 */
export async function buildDevModels(modelsDir: string): Promise<string[]> {
  const bytes = buildComfortIndexModel();
  const manifest = await comfortIndexManifest(bytes);
  await writeModel({ dir: modelsDir, manifest, bytes });
  return [`${manifest.name}@${manifest.version}`];
}
