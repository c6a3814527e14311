// The routes about models rather than requests: the public catalogue of models and where they are
// served, the origin of model manifests and artifacts, and the nearest peers holding an artifact.
import { artifactRoute, catalogRoute, manifestRoute, peersRoute } from '../openapi/api-routes.ts';
import { mount, type GatewayApp } from '../openapi/mount.ts';
import { catalogHandler, originHandlers, peersHandler } from '../routes/models.ts';
import type { GatewayWiring } from './options.ts';

export function mountModelRoutes(
  app: GatewayApp,
  { catalog, placement }: Pick<GatewayWiring, 'catalog' | 'placement'>,
): void {
  mount(app, catalogRoute, catalogHandler({ catalog, healthyNodes: () => placement.healthyNodes() }));
  const origin = originHandlers(catalog);
  mount(app, manifestRoute, origin.manifest);
  mount(app, artifactRoute, origin.artifact);
  mount(app, peersRoute, peersHandler({ nearest: (q) => placement.nearest(q) }));
}
