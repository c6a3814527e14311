import { REPORT_KEY_FILE } from '@hexedge/gateway/node';
import {
  GATEWAY_IDENTITY_PATH,
  gatewayIdentitySchema,
  MAX_FORWARD_SKEW_MS,
  signForward,
  type NodeKeyPair,
} from '@hexedge/protocol';
import { readKeyFile } from '@hexedge/protocol/node';
import { freePort, waitUntil, type Proc } from '@hexedge/test-kit';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeInit } from '../src/commands/node-init.ts';
import {
  ADMIN_KEY,
  inferBody,
  NODE_PLACES,
  scratch,
  startGatewayProcess,
  startNodeProcess,
  type GatewayOptions,
  type NodeHandle,
} from './faults/fabric.ts';

/**
 * `hexedge gateway` and `hexedge node run`, each from its config file. The gateway restarts with a
 * fresh report key (its key file gone, as an operator rotating a leaked key does). With no request
 * through the new gateway, the node's periodic re-read (node.yaml gatewayKeysRefreshMs) notices the
 * rotation; the old key still gets a forward served within the grace (in-flight forwards), and after
 * it whoever holds the old key can no longer send the node requests straight, while traffic through
 * the gateway keeps working.
 */
const REFRESH_MS = 1_000;
const BODY = JSON.stringify({
  id: 'straight-to-node',
  inputs: [{ name: 'readings', datatype: 'FP32', shape: [1, 3], data: [29, 55, 900] }],
});

let fs: Awaited<ReturnType<typeof scratch>>;
let gatewayOptions: GatewayOptions;
let gateway: Proc & { url: string };
let node: NodeHandle;

beforeAll(async () => {
  fs = await scratch('gateway-key-rotation');
  gatewayOptions = { dataDir: path.join(fs.dir, 'gateway'), modelsDir: fs.modelsDir, port: await freePort() };
  gateway = await startGatewayProcess(gatewayOptions);
  const gatewayUrl = gateway.url;
  const dataDir = path.join(fs.dir, 'nodes', 'n0');
  await nodeInit({ dataDir, ...NODE_PLACES[0]!, gatewayUrl });
  const configFile = path.join(dataDir, 'node.yaml');
  const config = await readFile(configFile, 'utf8');
  expect(config).toMatch(/^gatewayKeysRefreshMs: \d+$/m);
  await writeFile(
    configFile,
    config.replace(/^gatewayKeysRefreshMs: \d+$/m, `gatewayKeysRefreshMs: ${REFRESH_MS}`),
  );
  node = await startNodeProcess({
    dir: fs.dir,
    name: 'n0',
    gatewayUrl,
    modelsDir: fs.modelsDir,
    place: NODE_PLACES[0]!,
  });
}, 120_000);

afterAll(async () => {
  for (const proc of [node, gateway]) await proc?.stop();
  await fs?.cleanup();
});

const inferThroughGateway = () =>
  fetch(`${gateway.url}/v1/infer`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify(inferBody()),
  });

/** A forward signed now with `keys`, sent straight to the node (no gateway in between). */
async function forwardStraight(keys: NodeKeyPair) {
  const headers = await signForward({
    keys,
    targetNodeId: node.nodeId,
    route: 'infer',
    modelName: 'comfort-index',
    modelVersion: '1',
    body: BODY,
    nowMs: Date.now(),
  });
  const res = await fetch(`${node.url}/v2/models/comfort-index/versions/1/infer`, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json' },
    body: BODY,
  });
  return { status: res.status, body: (await res.json()) as { code?: string; error?: string } };
}

async function publishedKeys(): Promise<string[]> {
  const identity = gatewayIdentitySchema.parse(
    await (await fetch(`${gateway.url}${GATEWAY_IDENTITY_PATH}`)).json(),
  );
  return identity.reporterIds ?? [identity.reporterId];
}

async function retiredKeyRefusals(): Promise<number> {
  const text = await (await fetch(`${node.url}/metrics`)).text();
  const line = /^hexedge_node_forwarders_refused_total\{reason="retired-gateway-key"\} (\d+)$/m.exec(text);
  return Number(line?.[1] ?? 0);
}

describe('gateway key rotation, gateway and node as deployed', () => {
  it('after a restart with a fresh key, the old key works only within the grace; the gateway’s traffic goes on', async () => {
    const keyFile = path.join(gatewayOptions.dataDir, REPORT_KEY_FILE);
    const old = (await readKeyFile(keyFile))!.keys;
    expect(await publishedKeys()).toEqual([old.nodeId]);
    expect((await inferThroughGateway()).status).toBe(200);
    expect((await forwardStraight(old)).status).toBe(200);

    // The operator rotates: the gateway goes down, its key file is removed, it starts with a new key.
    await gateway.stop();
    const down = await node.waitForLine(
      /^cannot read the identity of gateway \S+: .*; keeping its keys \((\S+)\)/,
    );
    expect(down[1]).toBe(old.nodeId); // a gateway that is down does not lock its own key out
    await rm(keyFile);
    gateway = await startGatewayProcess(gatewayOptions);
    const [fresh] = await publishedKeys();
    expect(fresh).not.toBe(old.nodeId);

    // No request through the new gateway yet: the periodic re-read is what notices the rotation.
    const rotated = await node.waitForLine(
      new RegExp(`^gateway key ${old.nodeId} replaced by ${fresh}; ${old.nodeId} accepted until (\\S+)$`),
      15_000,
    );
    const acceptedUntilMs = Date.parse(rotated[1]!);
    expect(acceptedUntilMs - Date.now()).toBeLessThanOrEqual(MAX_FORWARD_SKEW_MS);
    expect(node.lines.filter((l) => l.startsWith('cannot read the identity of gateway'))).toHaveLength(1);
    expect(
      node.lines.some((l) => /^read the identity of gateway \S+ again after \d+ failed read\(s\)$/.test(l)),
    ).toBe(true);

    // Within the grace: a forward the old key signed (one in flight at the rotation) is still served.
    expect((await forwardStraight(old)).status).toBe(200);
    await waitUntil(
      'the gateway to serve through the node again',
      async () => (await inferThroughGateway()).ok,
      {
        timeoutMs: 20_000,
      },
    );

    await waitUntil('the old key’s grace to pass', () => Date.now() > acceptedUntilMs, {
      timeoutMs: MAX_FORWARD_SKEW_MS + 30_000,
      intervalMs: 500,
    });
    expect(await forwardStraight(old)).toEqual({
      status: 403,
      body: {
        code: 'FORBIDDEN',
        error: `request refused: forwarder ${old.nodeId} is not a gateway or oracle this node knows`,
      },
    });
    expect(await retiredKeyRefusals()).toBe(1);
    expect((await inferThroughGateway()).status).toBe(200);
  }, 180_000);
});
