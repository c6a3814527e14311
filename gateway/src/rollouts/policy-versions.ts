import { HexEdgeError, type InferResponse } from '@hexedge/protocol';
import { catalogueVersions, type CatalogueReader } from './catalogue-versions.ts';
import type { VersionPolicy } from './rollout-spec.ts';
import type { PlaceFn } from './version-router.ts';

/** A request with no rollout running for its model, routed by the model's version policy (none: as asked). */
export function routeByPolicy(o: {
  policy: VersionPolicy | undefined;
  catalogue: CatalogueReader;
  model: string;
  place: PlaceFn;
}): Promise<InferResponse> {
  const { policy, model, place } = o;
  if (!policy) return place();
  if (policy.mode === 'specific') return place({ version: policy.version! });
  const withdrawn = new Set(policy.withdrawn);
  if (policy.mode === 'latest') {
    const latest = catalogueVersions(o.catalogue, model)
      .filter((v) => !withdrawn.has(v))
      .at(-1);
    if (latest !== undefined) return place({ version: latest });
  }
  return withdrawn.size ? place({ skip: (c) => withdrawn.has(c.version) }) : place();
}

/** The specific version the policy pins, else the version most nodes serve now (ties: the newest). */
export async function defaultBaseline(o: {
  policy: VersionPolicy | undefined;
  model: string;
  candidate: string;
  versions: string[];
  holders: ((model: string, version: string) => number | Promise<number>) | undefined;
}): Promise<string> {
  const { policy, model, candidate, versions } = o;
  if (policy?.mode === 'specific') return policy.version!;
  const withdrawn = new Set(policy?.withdrawn ?? []);
  let best: { version: string; holders: number } | undefined;
  for (const version of versions) {
    if (version === candidate || withdrawn.has(version)) continue;
    const holders = o.holders ? await o.holders(model, version) : 1;
    if (holders > 0 && holders >= (best?.holders ?? 0)) best = { version, holders };
  }
  if (best) return best.version;
  throw new HexEdgeError(
    'INVALID_REQUEST',
    `baseline: no version of '${model}' other than '${candidate}' is served now (catalogue: ${versions.join(', ')}); name the baseline`,
    { field: 'baseline' },
  );
}
