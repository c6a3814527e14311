// The routes about the gateway itself rather than its work: readiness, the report key identity,
// metrics and the OpenAPI document with its docs page. None needs an API key.
import { docsPage, openApiDocument } from '../openapi/document.ts';
import { mount, type GatewayApp } from '../openapi/mount.ts';
import {
  docsRoute,
  healthRoute,
  identityRoute,
  metricsRoute,
  openApiRoute,
} from '../openapi/service-routes.ts';
import type { GatewayWiring } from './options.ts';

export function mountServiceRoutes(app: GatewayApp, { options }: Pick<GatewayWiring, 'options'>): void {
  const isReady = options.isReady ?? (() => true);
  mount(app, healthRoute, (c) => {
    const parts = options.parts?.() ?? {};
    const ok = isReady() && Object.values(parts).every((state) => state === 'up');
    return c.json({ ok, parts }, ok ? 200 : 503);
  });
  if (options.reporterId) {
    const identity = {
      reporterId: options.reporterId,
      reporterIds: [...new Set([options.reporterId, ...(options.siblingReporterIds ?? [])])],
      algorithm: 'Ed25519',
      encoding: 'base64url raw 32 bytes',
    };
    mount(app, identityRoute, (c) => c.json(identity));
  }
  // Generated on first use, once every route (the Worker adds one after createGatewayApp) is registered.
  let doc: Record<string, unknown> | undefined;
  const document = () => (doc ??= openApiDocument(app as never));
  mount(app, openApiRoute, (c) => c.json(document()));
  const metrics = options.metrics;
  if (metrics)
    mount(app, metricsRoute, async (c) =>
      c.text(await metrics.text(), 200, { 'content-type': metrics.contentType }),
    );
  mount(app, docsRoute, (c) => c.html(docsPage(document())));
}
