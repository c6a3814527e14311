import { HexEdgeError, type ModelManifest } from '@hexedge/protocol';

/** The catalogue as rollouts read it: the origin registry's manifests (`name@version` files). */
export interface CatalogueReader {
  manifests(): readonly ModelManifest[];
}

/** Versions in the catalogue, oldest first, numeric-aware (`2` < `10`, `1` < `1-int8`), as the planner orders them. */
export function catalogueVersions(catalogue: CatalogueReader, model: string): string[] {
  return [
    ...new Set(
      catalogue
        .manifests()
        .filter((m) => m.name === model)
        .map((m) => m.version),
    ),
  ].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
}

/** Refuses a model the catalogue does not have, or a version of it that it does not list, naming what it has. */
export function requireCatalogued(o: {
  catalogue: CatalogueReader;
  model: string;
  version?: string;
  field: string;
}): string[] {
  const versions = catalogueVersions(o.catalogue, o.model);
  if (versions.length === 0) {
    const models = [...new Set(o.catalogue.manifests().map((m) => m.name))].sort();
    throw new HexEdgeError(
      'MODEL_NOT_FOUND',
      `model '${o.model}' is not in the gateway's catalogue (models: ${models.join(', ') || 'none'})`,
    );
  }
  if (o.version !== undefined && !versions.includes(o.version))
    throw new HexEdgeError(
      'INVALID_REQUEST',
      `${o.field}: version '${o.version}' of model '${o.model}' is not in the catalogue (versions: ${versions.join(', ')})`,
      { field: o.field },
    );
  return versions;
}

/** The larger of the two versions' manifest tolerances: the comparison a spot check of either would accept. */
export function toleranceBetween(
  catalogue: CatalogueReader,
  model: string,
  versions: readonly string[],
): number {
  let tolerance = 0;
  for (const m of catalogue.manifests())
    if (m.name === model && versions.includes(m.version)) tolerance = Math.max(tolerance, m.tolerance ?? 0);
  return tolerance;
}

export function contentIdOf(catalogue: CatalogueReader, model: string, version: string): string | undefined {
  return catalogue.manifests().find((m) => m.name === model && m.version === version)?.contentId;
}
