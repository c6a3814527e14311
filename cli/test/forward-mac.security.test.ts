import { nodeConfigSchema } from '@hexedge/edge-node';
import { buildEdgeNode, type RunningNode } from '@hexedge/edge-node/node';
import {
  FORWARD_MAC_ACCEPTED_HEADER,
  FORWARD_MAC_HEADER,
  FORWARDER_HEADER,
  ForwardMacKeys,
  generateNodeKeyPair,
  macForward,
  type NodeKeyPair,
} from '@hexedge/protocol';
import { waitUntil } from '@hexedge/test-kit';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeInit } from '../src/commands/node-init.ts';
import { headerOf, headersOf, tapNodeWires, type NodeWire } from './node-wire-tap.ts';
import { buildComfortGateway } from './comfort-fabric.ts';

/**
 * Forward MACs between a real gateway (`hexedge gateway`'s builder) and real edge nodes (`hexedge node
 * run`'s builder) over real sockets: the gateway signs a node's first request (it has not heard from
 * the node yet), learns from the answer that the node takes MACs, and from then on sends an HMAC under
 * the key their identities agree instead of an Ed25519 signature; the node serves those and refuses a
 * MAC relayed to another node, made with another key, over a changed body, or malformed, with 403.
 * What went over the wire is read from undici's diagnostics channels (the gateway's node client).
 */
const ADMIN_KEY = 'forward-mac-admin-key-0123456789';
const HERE = { lat: 52.37, lng: 4.9 };
const FAR = { lat: -33.87, lng: 151.21 };
const dir = mkdtempSync(path.join(os.tmpdir(), 'hexedge-forward-mac-'));
const stopping = new AbortController();
const INFER_PATH = '/v2/models/comfort-index/versions/1/infer';
let gatewayUrl: string;
let a: RunningNode, b: RunningNode;
let aKeys: NodeKeyPair, bKeys: NodeKeyPair;

let tap: ReturnType<typeof tapNodeWires>;

const infer = (location: { lat: number; lng: number }, reading = 29) =>
  fetch(`${gatewayUrl}/v1/infer`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      model: 'comfort-index',
      location,
      inputs: [{ name: 'readings', datatype: 'FP32', shape: [1, 3], data: [reading, 55, 900] }],
    }),
  });

/** Sends a request the gateway sent (headers and body) again, straight to `node`, with changes. */
const resend = async (
  node: RunningNode,
  wire: NodeWire,
  change: { headers?: Record<string, string>; body?: Buffer } = {},
) => {
  const headers = { ...headersOf(wire.requestHeaders), ...change.headers };
  delete headers['content-length'];
  delete headers.host;
  const res = await fetch(`${node.url}${INFER_PATH}`, {
    method: 'POST',
    headers,
    body: new Uint8Array(change.body ?? Buffer.concat(wire.body)),
  });
  // A served request's answer is binary (the gateway asked for binary outputs); a refusal is JSON.
  if (res.status === 200) return { status: 200, body: await res.arrayBuffer() };
  return { status: res.status, body: (await res.json()) as { error: string; code: string } };
};

beforeAll(async () => {
  tap = tapNodeWires();
  const { gateway, modelsDir } = await buildComfortGateway({
    dir,
    adminKey: ADMIN_KEY,
    signal: stopping.signal,
  });
  gatewayUrl = gateway.url;
  [aKeys, bKeys] = await Promise.all([generateNodeKeyPair(), generateNodeKeyPair()]);
  const start = async (name: string, location: typeof HERE, keys: NodeKeyPair) => {
    const dataDir = path.join(dir, name);
    await nodeInit({ dataDir, ...location, gatewayUrl });
    return buildEdgeNode(
      nodeConfigSchema.parse({ location, gatewayUrl, host: '127.0.0.1', port: 0, modelsDir }),
      { dataDir, signal: stopping.signal, keys },
    );
  };
  [a, b] = await Promise.all([start('a', HERE, aKeys), start('b', FAR, bKeys)]);
  await waitUntil('both nodes serve comfort-index through the gateway', async () => {
    const res = await fetch(
      `${gatewayUrl}/v1/nodes/nearest?lat=${HERE.lat}&lng=${HERE.lng}&model=comfort-index&limit=5`,
      {
        headers: { authorization: `Bearer ${ADMIN_KEY}` },
      },
    );
    const { nodes } = (await res.json()) as { nodes: { id: string; models: { ready: boolean }[] }[] };
    return [a.nodeId, b.nodeId].every((id) =>
      nodes.some((n) => n.id === id && n.models.some((m) => m.ready)),
    );
  });
}, 60_000);

afterAll(async () => {
  stopping.abort();
  tap?.stop();
  await Promise.all([a?.closed, b?.closed]);
  rmSync(dir, { recursive: true, force: true });
});

const toNode = (node: RunningNode) =>
  tap.wires.filter((w) => w.path === INFER_PATH && w.origin === new URL(node.url).origin);

describe('forward MACs, gateway → edge node', () => {
  it('signs a node’s first request, then sends MACs (no signature, no batch) once the node said it takes them', async () => {
    expect((await infer(HERE)).status).toBe(200);
    const [first] = toNode(a);
    expect(headerOf(first!.requestHeaders, 'x-hexedge-forward-signature')).toBeDefined();
    expect(headerOf(first!.requestHeaders, FORWARD_MAC_HEADER)).toBeUndefined();
    expect(headerOf(first!.responseHeaders, FORWARD_MAC_ACCEPTED_HEADER)).toBe('v1');

    const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => infer(HERE, 20 + i)));
    expect(answers.map((r) => r.status)).toEqual(Array(8).fill(200));
    const later = toNode(a).slice(1);
    expect(later).toHaveLength(8);
    for (const w of later) {
      expect(headerOf(w.requestHeaders, FORWARD_MAC_HEADER)).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(headerOf(w.requestHeaders, 'x-hexedge-forward-signature')).toBeUndefined();
      expect(headerOf(w.requestHeaders, 'x-hexedge-forward-proof')).toBeUndefined();
    }
  });

  it('a node refuses a MAC the gateway made for another node (a relay), a changed body, a malformed MAC, with 403', async () => {
    expect((await infer(FAR)).status).toBe(200);
    const forA = toNode(a).at(-1)!;
    expect(headerOf(forA.requestHeaders, FORWARD_MAC_HEADER)).toBeDefined();
    // The captured request replayed to A within the skew: A served it already, so it is refused, not
    // run again. B refuses it too: not its key.
    expect(await resend(a, forA)).toEqual({
      status: 409,
      body: {
        code: 'REPLAYED',
        error: expect.stringMatching(
          /^request refused: this request from .+, forwarded at \d+, was served already \(a replay\)$/,
        ),
      },
    });
    const relayed = await resend(b, forA);
    expect(relayed).toEqual({
      status: 403,
      body: {
        code: 'FORBIDDEN',
        error: expect.stringMatching(/^request refused: the forward MAC does not verify for /),
      },
    });
    const body = Buffer.concat(forA.body);
    body[body.length - 1] ^= 1;
    expect(await resend(a, forA, { body })).toMatchObject({
      status: 403,
      body: { error: expect.stringMatching(/forward MAC does not verify/) },
    });
    const mac = headerOf(forA.requestHeaders, FORWARD_MAC_HEADER)!;
    expect(await resend(a, forA, { headers: { [FORWARD_MAC_HEADER]: mac.slice(0, 40) } })).toMatchObject({
      status: 403,
      body: { error: expect.stringMatching(/is not an HMAC-SHA256 in base64url/) },
    });
  });

  it('a node refuses a MAC under its gateway’s name made with another identity’s key, an unknown forwarder, and itself', async () => {
    const forA = toNode(a).at(-1)!;
    const gatewayId = headerOf(forA.requestHeaders, FORWARDER_HEADER)!;
    const body = Buffer.concat(forA.body);
    const target = {
      route: 'infer' as const,
      modelName: 'comfort-index',
      modelVersion: '1',
      body,
      nowMs: Date.now(),
    };
    // B's own key with A (the best key another node can make), and a stranger's, under the gateway's name.
    const stranger = await generateNodeKeyPair();
    for (const keys of [bKeys, stranger]) {
      const made = await macForward({
        macs: new ForwardMacKeys({ keys }),
        targetNodeId: a.nodeId,
        ...target,
      });
      expect(await resend(a, forA, { headers: { ...made!, [FORWARDER_HEADER]: gatewayId } })).toMatchObject({
        status: 403,
        body: { error: expect.stringMatching(/forward MAC does not verify for /) },
      });
      // Under its own name it is a forwarder A does not know.
      expect(await resend(a, forA, { headers: made! })).toMatchObject({
        status: 403,
        body: { error: expect.stringMatching(/is not a gateway or oracle this node knows/) },
      });
    }
    expect(await resend(a, forA, { headers: { [FORWARDER_HEADER]: a.nodeId } })).toMatchObject({
      status: 403,
      body: { error: expect.stringMatching(/is not a gateway or oracle this node knows/) },
    });
  });
});
