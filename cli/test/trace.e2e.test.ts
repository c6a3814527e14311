import { buildComfortIndexModel, comfortIndexManifest } from '@hexedge/edge-node';
import { writeModel } from '@hexedge/edge-node/node';
import { oracleNodeReportPath, parseTraceparent, type InferResponse } from '@hexedge/protocol';
import {
  freePort,
  hexedge,
  inbox,
  initNode,
  mqttClient,
  OTEL_FILE_EXPORT,
  requirePart,
  startAclBroker,
  startGatewayProcess,
  startNodeProcess,
  startOracleProcess,
  waitUntil,
  type GatewayProcess,
  type NodeProcess,
  type OracleProcess,
  type Proc,
} from '@hexedge/test-kit';
import type { MqttClient } from 'mqtt';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForHealthyNode } from './comfort-fabric.ts';

/**
 * One request's trace across real processes: a device on a real Mosquitto (MQTT v5) sends its
 * `traceparent` as a user property; `hexedge gateway` (its MQTT ingress), `hexedge node run` and
 * `hexedge oracle` (every receipt sampled for a spot check) each export their spans through an
 * OpenTelemetry SDK registered before they start (NODE_OPTIONS=--import, a file exporter), as a
 * deployment configures an exporter. The spans must form one trace: device → gateway → forward →
 * node → oracle spot check, with the receipt's metadata, the answer's user property, the gateway's
 * per-hop timings and the oracle's verdict all naming it.
 */
const mosquitto = requirePart('mosquitto', import.meta.filename);
const ADMIN_KEY = 'trace-e2e-admin-key-0123456789';
const BROKER_PASSWORD = 'trace-e2e-broker-secret';
const DEVICE = 'sensor-7';
const DEVICE_PASSWORD = 'trace-e2e-device-secret';
const HERE = { lat: 52.37, lng: 4.9 };
const DEVICE_SPAN = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331' };
const dir = mkdtempSync(path.join(os.tmpdir(), 'hexedge-trace-'));
const spansDir = path.join(dir, 'spans');
const procs: Proc[] = [];
let gateway: GatewayProcess;
let oracle: OracleProcess;
let node: NodeProcess;
let device: MqttClient;
const savedEnv = { NODE_OPTIONS: process.env.NODE_OPTIONS, HEXEDGE_OTEL_DIR: process.env.HEXEDGE_OTEL_DIR };

interface ExportedSpan {
  name: string;
  scope: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  attributes: Record<string, unknown>;
}
const exported = (): ExportedSpan[] =>
  existsSync(spansDir)
    ? readdirSync(spansDir).flatMap((f) =>
        readFileSync(path.join(spansDir, f), 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as ExportedSpan),
      )
    : [];

beforeAll(async () => {
  if (mosquitto.skip) return;
  mkdirSync(spansDir);
  // Every hexedge process this file starts exports its spans (the exporter is configured, not coded).
  process.env.NODE_OPTIONS = `${savedEnv.NODE_OPTIONS ?? ''} --import ${OTEL_FILE_EXPORT}`.trim();
  process.env.HEXEDGE_OTEL_DIR = spansDir;
  const modelsDir = path.join(dir, 'origin');
  const bytes = buildComfortIndexModel();
  await writeModel({ dir: modelsDir, manifest: await comfortIndexManifest(bytes), bytes });
  const devices = path.join(dir, 'gateway', 'devices.json');
  await hexedge([
    'broker',
    'device',
    'add',
    DEVICE,
    '--password',
    DEVICE_PASSWORD,
    '--models',
    'comfort-index',
    '--devices',
    devices,
  ]);
  const { broker, port: brokerPort } = await startAclBroker({
    binary: mosquitto.path,
    dir: path.join(dir, 'mosquitto'),
    devicesFile: devices,
    gatewayPassword: BROKER_PASSWORD,
  });
  procs.push(broker);

  const gatewayPort = await freePort();
  const gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
  oracle = await startOracleProcess({
    configFile: path.join(dir, 'oracle.yaml'),
    config: {
      port: 0,
      dataDir: path.join(dir, 'oracle'),
      gatewayUrls: [gatewayUrl],
      challengeIntervalMs: 0,
      directoryRefreshMs: 300,
      trustPushIntervalMs: 500,
      exportIntervalMs: 0,
      oracle: {
        samplingRate: 1,
        checkersPerSample: 1,
        minCheckerResponses: 1,
        scoreIntervalMs: 200,
        idleMs: 50,
      },
    },
  });
  procs.push(oracle);
  gateway = await startGatewayProcess({
    configFile: path.join(dir, 'gateway.yaml'),
    adminKey: ADMIN_KEY,
    mqttPassword: BROKER_PASSWORD,
    config: {
      port: gatewayPort,
      dataDir: path.join(dir, 'gateway'),
      modelsDir,
      heartbeatIntervalMs: 1_000,
      assumeLocationsVerified: true,
      allowPrivateNodeAddresses: true,
      mqtt: { url: `mqtt://127.0.0.1:${brokerPort}`, protocolVersion: 5, chirpstack: { enabled: false } },
      oracle: { url: oracle.url, oracleIds: [oracle.oracleId] },
    },
  });
  procs.push(gateway);
  const dataDir = path.join(dir, 'node');
  await initNode({ dataDir, ...HERE, gatewayUrl: gateway.url });
  node = await startNodeProcess({ dataDir, args: ['--port', '0', '--models-dir', modelsDir] });
  procs.push(node);
  await waitForHealthyNode({ gatewayUrl: gateway.url, nodeId: node.nodeId });
  device = await mqttClient(`mqtt://127.0.0.1:${brokerPort}`, {
    clientId: DEVICE,
    username: DEVICE,
    password: DEVICE_PASSWORD,
    protocolVersion: 5,
  });
}, 120_000);

afterAll(async () => {
  for (const [k, v] of Object.entries(savedEnv)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  await device?.endAsync().catch(() => {});
  for (const p of procs.reverse()) await p.stop().catch(() => {});
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(mosquitto.skip)(
  'one trace across device, gateway, node and spot check (real processes)',
  () => {
    it('carries the device’s MQTT v5 traceparent through every hop, into the receipt metadata and the oracle’s spot check', async () => {
      const responseTopic = `hexedge/v1/res/${DEVICE}/t1`;
      const answers = inbox(device);
      await device.subscribeAsync(responseTopic, { qos: 1 });
      await device.publishAsync(
        `hexedge/v1/infer/${DEVICE}/comfort-index`,
        JSON.stringify({
          location: HERE,
          inputs: [{ name: 'readings', datatype: 'FP32', shape: [1, 3], data: [29, 55, 900] }],
        }),
        {
          qos: 1,
          properties: {
            responseTopic,
            correlationData: Buffer.from('trace-1'),
            userProperties: { traceparent: `00-${DEVICE_SPAN.traceId}-${DEVICE_SPAN.spanId}-01` },
          },
        },
      );
      const answer = await answers.next(responseTopic, 15_000);
      const response = answer.payload as InferResponse;
      expect(response.node.id).toBe(node.nodeId);
      // The answer names the gateway's span (user property) and the receipt the node's, both in the device's trace.
      const gatewayCtx = parseTraceparent(answer.packet.properties?.userProperties?.traceparent);
      const nodeCtx = parseTraceparent(response.receipt.metadata?.traceparent);
      expect(gatewayCtx?.traceId).toBe(DEVICE_SPAN.traceId);
      expect(nodeCtx?.traceId).toBe(DEVICE_SPAN.traceId);
      expect(response.receipt.metadata).toMatchObject({
        queueMs: expect.any(Number),
        runMs: expect.any(Number),
      });

      // Exported spans, from three processes: device → gateway → forward → node → oracle spot check.
      await waitUntil(
        'the oracle to export its spot-check span',
        () => exported().some((s) => s.name === 'oracle spot-check' && s.traceId === DEVICE_SPAN.traceId),
        { timeoutMs: 20_000 },
      );
      const spans = exported().filter((s) => s.traceId === DEVICE_SPAN.traceId);
      const byName = (name: string) => spans.find((s) => s.name === name);
      const gatewaySpan = byName('gateway infer comfort-index')!;
      const forward = byName('gateway forward to node')!;
      const nodeSpan = byName('node infer comfort-index')!;
      const spotCheck = byName('oracle spot-check')!;
      expect(gatewaySpan).toMatchObject({
        scope: 'hexedge-gateway',
        parentSpanId: DEVICE_SPAN.spanId,
        spanId: gatewayCtx!.spanId,
      });
      expect(gatewaySpan.attributes['hexedge.channel']).toBe('mqtt');
      expect(forward.parentSpanId).toBe(gatewaySpan.spanId);
      expect(nodeSpan).toMatchObject({
        scope: 'hexedge-edge-node',
        parentSpanId: forward.spanId,
        spanId: nodeCtx!.spanId,
      });
      expect(spotCheck).toMatchObject({ scope: 'hexedge-oracle', parentSpanId: nodeSpan.spanId });
      expect(spotCheck.attributes['hexedge.node_id']).toBe(node.nodeId);

      // The gateway's per-hop timings for the dashboard, under the device's request id.
      const traces = (await (
        await fetch(`${gateway.url}/v1/traces/trace-1`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })
      ).json()) as {
        traces: { traceId: string; callerSpanId: string; channel: string; hops: { hop: string }[] }[];
      };
      expect(traces.traces[0]).toMatchObject({
        traceId: DEVICE_SPAN.traceId,
        callerSpanId: DEVICE_SPAN.spanId,
        channel: 'mqtt',
      });
      expect(traces.traces[0]!.hops.map((h) => h.hop)).toEqual(
        expect.arrayContaining(['gateway', 'placement', 'node', 'node-queue', 'node-run', 'receipt-check']),
      );

      // The oracle's spot-check verdict names the trace (data, beside the spans).
      const report = (await (await fetch(`${oracle.url}${oracleNodeReportPath(node.nodeId)}`)).json()) as {
        spotChecks: { details?: { traceId?: string } }[];
      };
      expect(report.spotChecks.some((v) => v.details?.traceId === DEVICE_SPAN.traceId)).toBe(true);
    }, 60_000);
  },
);
