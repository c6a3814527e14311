import type { ModelManifest } from '../models/manifest.ts';
import { getPipeline } from '../pipelines/index.ts';
import type { ModelSet } from '../server/model-set.ts';
import type { InferenceBackend } from './backend.ts';
import { chooseBackend, type BackendChoice } from './select.ts';
import { warmUp } from './warm-up.ts';

export interface LoadReport {
  loaded: { name: string; version: string; backend: string; executionProvider: string; warmUpMs: number }[];
  failed: { name: string; version: string; message: string }[];
}

/**
 * Loads verified artifacts onto the chosen backends and warms each up before adding it to the served
 * set, so a model is reported ready only once it can answer at full speed. A model that fails to load
 * or warm up is reported and skipped; the others still serve.
 */
export async function loadModels(options: {
  artifacts: readonly { manifest: ModelManifest; bytes: Uint8Array }[];
  backends: readonly InferenceBackend[];
  force: BackendChoice;
  models: ModelSet;
}): Promise<LoadReport> {
  const report: LoadReport = { loaded: [], failed: [] };
  for (const artifact of options.artifacts) {
    const { name, version } = artifact.manifest;
    try {
      const backend = chooseBackend({ manifest: artifact.manifest, backends: options.backends, force: options.force });
      const model = await backend.load(artifact);
      const pipeline = artifact.manifest.pipeline ? getPipeline(artifact.manifest.pipeline) : undefined;
      const warmUpMs = await warmUp(model, pipeline);
      options.models.add(model);
      report.loaded.push({ name, version, backend: backend.name, executionProvider: model.executionProvider, warmUpMs });
    } catch (err) {
      report.failed.push({ name, version, message: (err as Error).message });
    }
  }
  return report;
}
