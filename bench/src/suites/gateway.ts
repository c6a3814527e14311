/**
 * The gateway's own overhead: the gateway as `buildGateway` composes it (key check, schema, placement,
 * signed forward over PooledNodeClient, receipt check, metrics, dashboards) in front of one real edge node serving the tiny `comfort-index`
 * model, against a bare undici reverse proxy in front of the same node, and the node served directly.
 * Processes: this one (load generator), a forked front process (gateway and proxy, one under load at a
 * time), and the node (`hexedge node init` + `hexedge node run`, registered with the gateway over HTTP).
 * All three share the machine's cores. Ratios: rates value/anchor, times anchor/value (above 1 = the
 * row's subject wins). Each row's JSON carries its spread over rounds. MQTT rows (embedded broker +
 * the gateway's MQTT ingress vs an echo responder on the same broker): bench/src/gateway/mqtt-rows.ts;
 * the MQTT layer alone (a second broker with the real ingress and a stub infer service answering a
 * canned answer, vs echo on that broker): mqtt-layer.ts, mqttLayerRows.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  COMFORT_MODEL,
  COMFORT_VERSION,
  startEdgeNode,
  writeComfortModel,
  type EdgeNode,
} from '../gateway/edge-node.ts';
import { generateNodeKeyPair } from '@hexedge/protocol';
import { startFrontProcess, type FrontProcess } from '../gateway/front-process.ts';
import { freshForwards } from '../gateway/forward-headers.ts';
import { httpRows, oipBodyOf, requestSpecs } from '../gateway/http-rows.ts';
import { mqttLayerRows, mqttRows } from '../gateway/mqtt-rows.ts';
import { formatSpread, type InferenceRow } from '../inference/rounds.ts';
import type { BenchRow } from '../report.ts';

/** The node's claimed location (Berlin) and where requests come from (a few km away). */
const NODE_LOCATION = { lat: 52.52, lng: 13.405 };
const REQUEST_LOCATION = { lat: 52.5, lng: 13.43 };
const HEARTBEAT_INTERVAL_MS = 5_000;
const REGISTRATION_TIMEOUT_MS = 30_000;

export async function run({ quick }: { quick: boolean }): Promise<BenchRow[]> {
  const started = performance.now();
  const step = (what: string) =>
    console.log(`[${((performance.now() - started) / 1000).toFixed(1)} s] ${what}`);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hexedge-bench-gateway-'));
  const apiKey = `hx_bench_${randomBytes(18).toString('base64url')}`;
  const stack: (() => Promise<void>)[] = [];
  const rows: InferenceRow[] = [];
  try {
    const modelsDir = path.join(dir, 'models');
    await writeComfortModel(modelsDir);
    step('starting the gateway (buildGateway) + bare proxy process');
    const front: FrontProcess = await startFrontProcess({
      apiKey,
      heartbeatIntervalMs: HEARTBEAT_INTERVAL_MS,
      dataDir: path.join(dir, 'gateway'),
      modelsDir,
    });
    stack.push(() => front.close());
    step('hexedge node init + node run (comfort-index)');
    // The proxy's and the direct requests are MAC'd by the suite's own key, which the node knows as a gateway's.
    const benchKeys = await generateNodeKeyPair();
    const node: EdgeNode = await startEdgeNode({
      dataDir: path.join(dir, 'node'),
      modelsDir,
      gatewayUrl: front.gatewayUrl,
      ...NODE_LOCATION,
      gatewayIds: [benchKeys.nodeId],
    });
    stack.push(() => node.stop());
    const forwards = await freshForwards({
      keys: benchKeys,
      targetNodeId: node.nodeId,
      modelName: COMFORT_MODEL,
      modelVersion: COMFORT_VERSION,
      bodyOf: oipBodyOf,
    });
    const proxyUrl = await front.startProxy(node.url);
    const deadline = Date.now() + REGISTRATION_TIMEOUT_MS;
    while ((await front.candidateCount({ model: COMFORT_MODEL, ...REQUEST_LOCATION })) === 0) {
      if (Date.now() > deadline)
        throw new Error(
          `node ${node.nodeId} did not register with the gateway within ${REGISTRATION_TIMEOUT_MS} ms`,
        );
      await new Promise((r) => setTimeout(r, 50));
    }
    step(
      `node ${node.nodeId.slice(0, 12)}… registered at ${node.url}; HTTP: gateway ${front.gatewayUrl}, proxy ${proxyUrl}`,
    );
    rows.push(
      ...(await httpRows({
        urls: { gateway: front.gatewayUrl, proxy: proxyUrl, direct: node.url },
        apiKey,
        location: REQUEST_LOCATION,
        frontCpuUs: () => front.cpuUs(),
        nodeCpuUs: () => node.cpuUs(),
        forwardFor: forwards.forwardFor,
        quick,
      })),
    );
    step("MQTT: the gateway's embedded broker + ingress vs echo responder");
    try {
      const brokerUrl = await front.startMqtt();
      const payloads = requestSpecs({ apiKey, location: REQUEST_LOCATION }).gateway.bodies;
      rows.push(
        ...(await mqttRows({
          brokerUrl,
          password: apiKey,
          payloads,
          frontCpuUs: () => front.cpuUs(),
          quick,
        })),
      );
    } catch (err) {
      // The HTTP rows stand on their own; say why the MQTT ones are missing.
      console.log(`MQTT rows not measured: ${(err as Error).stack ?? String(err)}`);
    }
    step('MQTT layer alone: a broker with the ingress answering a canned answer vs echo on it');
    try {
      const payloads = requestSpecs({ apiKey, location: REQUEST_LOCATION }).gateway.bodies;
      // The canned answer is the gateway's own answer to the same request (same size and shape).
      const res = await fetch(`${front.gatewayUrl}/v1/infer`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
        body: Buffer.from(payloads[0]!),
      });
      const answer = await res.text();
      if (!res.ok) throw new Error(`the gateway refused the canned request: ${res.status} ${answer}`);
      const brokerUrl = await front.startMqttLayer(answer);
      step(`layer broker ${brokerUrl}, canned answer of ${Buffer.byteLength(answer)} bytes`);
      rows.push(
        ...(await mqttLayerRows({
          brokerUrl,
          password: apiKey,
          payloads,
          frontCpuUs: () => front.cpuUs(),
          quick,
        })),
      );
    } catch (err) {
      console.log(`MQTT layer rows not measured: ${(err as Error).stack ?? String(err)}`);
    }
  } finally {
    for (const close of stack.reverse())
      await close().catch((err: Error) => console.error(`shutdown: ${err.message}`));
    rmSync(dir, { recursive: true, force: true });
  }
  step('done');
  console.log(`spread over rounds (min–max):\n${formatSpread(rows)}`);
  return rows;
}
