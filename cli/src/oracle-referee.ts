import type { RefereeFactory } from '@hexedge/coverage-oracle/node';
import { createReferee } from '@hexedge/edge-node/node';
import path from 'node:path';

/**
 * The oracle's referee as every composition root wires it (`hexedge oracle`, `hexedge dev`, the
 * tests): edge-node's runtime, models pulled by content id from the gateways' origin registries into
 * `<oracle dataDir>/referee-models`.
 */
export function oracleReferee(): RefereeFactory {
  return ({ gatewayUrls, dataDir, log }) =>
    createReferee({ sources: gatewayUrls, modelsDir: path.join(dataDir, 'referee-models'), log });
}
