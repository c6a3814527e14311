// The routes of the coverage oracle, mounted only where one is configured: its coverage map
// proxied, its signed trust pushes applied to placement, and its spot-check re-runs served as live
// traffic. Trust pushes and re-runs need placement's records: in process, or the Worker's ports.
import { MAX_RERUN_BODY_BYTES, MAX_TRUST_PUSH_BYTES } from '@hexedge/protocol';
import { declaredBodyLimit } from '../body-limit.ts';
import { mount, type GatewayApp } from '../openapi/mount.ts';
import { coverageRoute, rerunRoute, trustRoute } from '../openapi/oracle-routes.ts';
import { oracleRerunHandler } from '../routes/oracle-rerun.ts';
import { coverageProxyHandler, oracleTrustHandler, placementTrustSink } from '../routes/oracle.ts';
import type { GatewayWiring } from './options.ts';

export function mountOracleRoutes(
  app: GatewayApp,
  { options, local, service, traces }: Pick<GatewayWiring, 'options' | 'local' | 'service' | 'traces'>,
): void {
  if (!options.oracle) return;
  mount(app, coverageRoute, coverageProxyHandler({ oracleUrl: options.oracle.url }));
  const trustTarget = local ? placementTrustSink(local) : options.trustSink;
  if (trustTarget)
    mount(
      app,
      trustRoute,
      declaredBodyLimit(MAX_TRUST_PUSH_BYTES),
      oracleTrustHandler({
        placement: trustTarget,
        oracleIds: options.oracle.oracleIds,
        assumeLocationsVerified: options.assumeLocationsVerified ?? false,
        ...(options.trustSeqs ? { seqs: options.trustSeqs } : {}),
      }),
    );
  const reruns = local ? { nodeOf: (id: string) => local.registry.get(id) } : options.reruns;
  if (reruns)
    mount(
      app,
      rerunRoute,
      declaredBodyLimit(MAX_RERUN_BODY_BYTES),
      oracleRerunHandler({
        service,
        ...reruns,
        oracleIds: options.oracle.oracleIds,
        traces,
      }),
    );
}
