import { generateNodeKeyPair, signBody } from '@hexedge/protocol';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeInit } from '../../src/commands/node-init.ts';
import {
  ADMIN_KEY,
  HERE,
  inferBody,
  MODEL,
  NODE_PLACES,
  scratch,
  startGatewayProcess,
  startNodeProcess,
} from '../faults/fabric.ts';
import { inferOnce } from '../faults/http-load.ts';
import { freePort, startProcess, waitUntil, type Proc } from '@hexedge/test-kit';

/**
 * Hostile nodes against `hexedge gateway --config FILE` as a process, over real sockets:
 * - SSRF: a "node" registered at an internal service's URL, then one /v1/infer (a gateway with the
 *   default policy: private node addresses refused);
 * - a black hole: a node process 100 m from the caller that claims 0 ms and answers every request
 *   with a 400 in its own words, next to an honest `hexedge node run` (a gateway for a private
 *   network on purpose: every process here is on 127.0.0.1).
 */
const SECRET = 'BLACKHOLE-SECRET';
const INTERNAL_SECRET = 'internal-service-secret-7f3a';
const procs: Proc[] = [];
let fs: Awaited<ReturnType<typeof scratch>>;
let internal: Server;
let internalUrl: string;
const internalSeen: string[] = [];

beforeAll(async () => {
  fs = await scratch('hostile-node');
  internal = createServer((req, res) => {
    internalSeen.push(`${req.method} ${req.url}`);
    req.resume();
    res.writeHead(400, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: `${INTERNAL_SECRET}: unknown admin command`, code: 'INVALID_REQUEST' }));
  });
  await new Promise<void>((r) => internal.listen(0, '127.0.0.1', r));
  internalUrl = `http://127.0.0.1:${(internal.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const p of procs.reverse()) await p.stop();
  internal?.closeAllConnections();
  await new Promise((r) => internal?.close(r));
  await fs?.cleanup();
});

async function register(gatewayUrl: string, url: string) {
  const node = await generateNodeKeyPair();
  const message = await signBody(
    'registration',
    {
      nodeId: node.nodeId,
      issuedAtMs: Date.now(),
      url,
      location: { lat: HERE.lat + 0.0005, lng: HERE.lng },
      hardware: { cpuCores: 1, memoryMb: 512, executionProviders: ['cpu' as const] },
      models: [{ name: MODEL, version: '1', contentId: 'a'.repeat(64), ready: true }],
    },
    node.privateKey,
  );
  const res = await fetch(`${gatewayUrl}/v1/nodes/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(message),
  });
  return { status: res.status, text: await res.text() };
}

describe('SSRF through node registration (default policy)', () => {
  let gatewayUrl: string;
  beforeAll(async () => {
    const gateway = await startGatewayProcess({
      dataDir: path.join(fs.dir, 'gateway-public'),
      modelsDir: fs.modelsDir,
      port: await freePort(),
      allowPrivateNodeAddresses: false,
    });
    procs.push(gateway);
    gatewayUrl = gateway.url;
  });

  it('refuses node URLs at loopback, private, link-local and metadata addresses, by literal or by name', async () => {
    for (const url of [
      `${internalUrl}/admin?x=`,
      `http://localhost:${new URL(internalUrl).port}/admin`,
      'http://169.254.169.254/latest/meta-data/',
      'http://[::1]:8080',
      'http://10.0.0.5:8080',
    ]) {
      const { status, text } = await register(gatewayUrl, url);
      expect(status, `${url}: ${text}`).toBe(403);
      expect(text).toContain('FORBIDDEN');
    }
  });

  it('never posts a caller’s request to the internal service, nor relays its text', async () => {
    const res = await fetch(`${gatewayUrl}/v1/infer`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify(inferBody()),
    });
    const text = await res.text();
    expect(res.status).not.toBe(200);
    expect(text).not.toContain(INTERNAL_SECRET);
    expect(internalSeen).toEqual([]);
  });
});

describe('a black-hole node next to the caller (claims 0 ms, answers every request with a 400)', () => {
  let gatewayUrl: string;
  let honestId: string;
  let holeId: string;
  beforeAll(async () => {
    const gateway = await startGatewayProcess({
      dataDir: path.join(fs.dir, 'gateway-private'),
      modelsDir: fs.modelsDir,
      port: await freePort(),
    });
    procs.push(gateway);
    gatewayUrl = gateway.url;
    const honest = await startNodeProcess({
      dir: fs.dir,
      name: 'honest',
      gatewayUrl,
      modelsDir: fs.modelsDir,
      place: NODE_PLACES[1]!,
    });
    procs.push(honest);
    honestId = honest.nodeId;
    const dataDir = path.join(fs.dir, 'nodes', 'black-hole');
    const place = { lat: HERE.lat + 0.0009, lng: HERE.lng }; // ~100 m
    holeId = (await nodeInit({ dataDir, ...place, gatewayUrl })).nodeId;
    const hole = await startProcess({
      name: 'black-hole node',
      command: process.execPath,
      args: [
        path.join(import.meta.dirname, 'black-hole-node.ts'),
        '--data-dir',
        dataDir,
        '--models-dir',
        fs.modelsDir,
        '--gateway',
        gatewayUrl,
        '--lat',
        String(place.lat),
        '--lng',
        String(place.lng),
      ],
      ready: /serving OIP v2 on \S+ as node/,
    });
    procs.push(hole);
    await waitUntil(
      'the black hole to be healthy',
      async () =>
        ((await (await fetch(`${gatewayUrl}/v1/nodes/${holeId}`)).json()) as { status?: string }).status ===
        'healthy',
    );
  });

  it('answers every request through the honest node, and never with the black hole’s words', async () => {
    const outcomes = [];
    for (let i = 0; i < 200; i++) outcomes.push(await inferOnce({ gatewayUrl, deadlineMs: 3_000 }));
    const failed = outcomes.filter((o) => o.status !== 200);
    expect(failed.map((o) => `${o.status} ${o.errorCode}: ${o.errorMessage}`)).toEqual([]);
    expect(outcomes.every((o) => o.nodeId === honestId)).toBe(true);
    expect(outcomes.some((o) => (o.errorMessage ?? '').includes(SECRET))).toBe(false);
  });
});
