import { buildOracle, type RefereeFactory, type RunningOracle } from '@hexedge/coverage-oracle/node';
import type { OracleServiceConfig } from '@hexedge/coverage-oracle';
import { createReferee } from '@hexedge/edge-node/node';
import path from 'node:path';

/**
 * The oracle's referee: edge-node's runtime, models pulled by content id from the gateways' origin
 * registries into `<oracle dataDir>/referee-models`. The oracle package cannot import the edge node, so
 * the referee is joined to it here, once, for every composition root.
 */
export function oracleReferee(): RefereeFactory {
  return ({ gatewayUrls, dataDir, log }) => createReferee({ sources: gatewayUrls, modelsDir: path.join(dataDir, 'referee-models'), log });
}

/**
 * The oracle deployable as `hexedge oracle`, `hexedge dev` and the tests build it: `buildOracle` with
 * its referee. Nothing else builds an oracle, so no test runs one without the referee that ships.
 */
export function buildOracleDeployable(config: OracleServiceConfig, options: Omit<Parameters<typeof buildOracle>[1], 'referee'>): Promise<RunningOracle> {
  return buildOracle(config, { ...options, referee: oracleReferee() });
}
