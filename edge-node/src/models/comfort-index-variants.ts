import { BIAS, buildComfortIndexModel, comfortIndexManifest, WEIGHTS } from './comfort-index.ts';
import type { ModelManifest } from './manifest.ts';

/**
 * Other releases of `comfort-index`, built by the same toolchain as the model itself, for rollouts:
 * - `retrained`: the same function in new bytes (another content id, answers within tolerance), as a
 *   rebuild or a retraining that changed nothing that matters would be — the release to promote;
 * - `mislabelled`: the "too warm" and "stuffy" scores swapped, as a training job that shuffled its
 *   label order would produce — a release that loads, runs fast and answers wrong, the kind of bug
 *   only a comparison with the serving version catches.
 */
export type ComfortIndexVariant = 'retrained' | 'mislabelled';

export async function buildComfortIndexVariant(o: {
  variant: ComfortIndexVariant;
  version: string;
}): Promise<{ bytes: Uint8Array; manifest: ModelManifest }> {
  const swap = <T>(row: readonly T[]) => [row[0]!, row[2]!, row[1]!];
  const bytes =
    o.variant === 'retrained'
      ? buildComfortIndexModel({ docString: `Indoor comfort classifier, release ${o.version} (rebuilt)` })
      : buildComfortIndexModel({
          weights: WEIGHTS.map(swap),
          bias: swap(BIAS),
          docString: `Indoor comfort classifier, release ${o.version}`,
        });
  const manifest = await comfortIndexManifest(bytes, { version: o.version });
  return { bytes, manifest: { ...manifest, source: `${manifest.source} (${o.variant} release)` } };
}
