import { buildComfortIndexModel, comfortIndexManifest } from '@hexedge/edge-node';
import { writeModel } from '@hexedge/edge-node/node';
import { gatewayConfigSchema } from '@hexedge/gateway';
import { buildGateway, type RunningGateway } from '@hexedge/gateway/node';
import { waitUntil } from '@hexedge/test-kit';
import path from 'node:path';

/**
 * What the cli's real-node tests share: `hexedge gateway`'s builder on the comfort-index model (its
 * origin in `<dir>/models`), and the wait for a node to be healthy at a gateway.
 */

/**
 * The comfort-index model written to `<dir>/models` and a gateway built on it, in this process, on a
 * free port, with its data in `<dir>/gateway`; node locations taken as verified and loopback node
 * addresses allowed (every node here is local). `config` adds to (or overrides) that configuration.
 */
export async function buildComfortGateway(o: {
  dir: string;
  adminKey: string;
  signal: AbortSignal;
  config?: Record<string, unknown>;
}): Promise<{ gateway: RunningGateway; modelsDir: string }> {
  const modelsDir = path.join(o.dir, 'models');
  const bytes = buildComfortIndexModel();
  await writeModel({ dir: modelsDir, manifest: await comfortIndexManifest(bytes), bytes });
  const gateway = await buildGateway(
    gatewayConfigSchema.parse({
      port: 0,
      dataDir: path.join(o.dir, 'gateway'),
      modelsDir,
      heartbeatIntervalMs: 1_000,
      assumeLocationsVerified: true,
      allowPrivateNodeAddresses: true,
      ...o.config,
    }),
    { adminKey: o.adminKey },
    { signal: o.signal },
  );
  return { gateway, modelsDir };
}

/** Waits until the gateway lists the node as healthy (registered and heartbeating). */
export async function waitForHealthyNode(o: {
  gatewayUrl: string;
  nodeId: string;
  timeoutMs?: number;
}): Promise<void> {
  await waitUntil(
    'the node to be healthy at the gateway',
    async () =>
      ((await (await fetch(`${o.gatewayUrl}/v1/nodes/${o.nodeId}`)).json()) as { status?: string }).status ===
      'healthy',
    { timeoutMs: o.timeoutMs ?? 15_000 },
  );
}
