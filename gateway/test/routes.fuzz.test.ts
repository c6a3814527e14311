import fc from 'fast-check';
import { ERROR_CODES, generateNodeKeyPair, signBody, type NodeKeyPair } from '@hexedge/protocol';
import { DeviceRegistry } from '@hexedge/firmware-bridge';
import { Placement } from '@hexedge/placement';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createGatewayApp, KeyRing, MemoryKeyStore } from '../src/index.ts';
import { fakeNodes, KEY, MODEL, register, type FakeNode } from './fake-nodes.ts';
import { assertNoPollution, bounded, isErrorCode, maybeNasty, nastyJson, nastyNumber, toJsonText, withinMs } from '@hexedge/protocol/testing';

/*
 * Property: every POST/PUT route other than /v1/infer (registration, heartbeat, keys, oracle trust,
 * devices and profiles) answers a success or the documented error for any body, and a refusal
 * leaves placement's nodes, the key list and the device registry exactly as they were.
 */

let near: FakeNode;
let oracle: NodeKeyPair;
let placement: Placement;
let keys: KeyRing;
let keyStore: MemoryKeyStore;
let devices: DeviceRegistry;
let app: ReturnType<typeof createGatewayApp>['app'];
let consoleError: ReturnType<typeof vi.spyOn>;

beforeAll(async () => {
  near = { keys: await generateNodeKeyPair(), url: 'http://near.test', mode: 'ok' };
  oracle = await generateNodeKeyPair();
});
beforeEach(async () => {
  placement = new Placement({ heartbeatIntervalMs: 60_000 });
  await register(placement, near, 52.3, 4.8);
  keyStore = new MemoryKeyStore();
  keys = new KeyRing({ store: keyStore });
  await keys.adopt(KEY, { name: 'admin', role: 'admin' });
  devices = new DeviceRegistry();
  devices.putProfile({ id: 'p1', codec: { kind: 'lpp' }, model: 'm', input: { kind: 'tensor', name: 'x', fields: [{ path: 'temperature_1' }] }, output: { labels: ['a', 'b'] }, downlink: { fPort: 10, encoding: { kind: 'class-index' } } });
  app = createGatewayApp({ placement, keys, devices, nodeClient: fakeNodes([near]), oracle: { url: 'http://oracle.test', oracleIds: [oracle.nodeId] } }).app;
  consoleError = vi.spyOn(console, 'error').mockImplementation(() => {});
});
afterEach(() => consoleError.mockRestore());

const state = () => JSON.stringify({ nodes: [...placement.registry.values()], trust: [...placement.registry.values()].map((n) => placement.getTrust(n.id)), keys: keyStore.list(), profiles: devices.listProfiles(), devices: devices.listDevices() });

async function send(method: string, path: string, text: string) {
  return withinMs(5_000, `${method} ${path}`, async () => {
    const res = await app.request(path, { method, body: text, headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' } });
    return { status: res.status, json: (await res.json().catch(() => ({}))) as { error?: { code?: string } } };
  });
}

/** Signed messages with fields swapped for nasty values, signed for real, so they get past the signature. */
const registrationBody = fc.record({
  nodeId: maybeNasty(fc.constant('self'), 8),
  issuedAtMs: maybeNasty(fc.oneof(fc.constant('now'), nastyNumber), 6),
  url: maybeNasty(fc.constantFrom('http://near.test', 'http://near.test///', 'javascript:alert(1)', 'http://[::1]:99999', 'file:///etc/passwd', 'http://' + 'a'.repeat(600))),
  location: maybeNasty(fc.record({ lat: maybeNasty(fc.double({ min: -91, max: 91, noNaN: true })), lng: maybeNasty(fc.double({ min: -181, max: 181, noNaN: true })) })),
  hardware: maybeNasty(fc.record({ cpuCores: maybeNasty(fc.integer({ min: -1, max: 5000 })), memoryMb: maybeNasty(fc.integer()), executionProviders: maybeNasty(fc.array(fc.constantFrom('cpu', 'cuda', 'gpu', '__proto__'), { maxLength: 9 })) })),
  models: maybeNasty(fc.array(fc.record({ name: maybeNasty(fc.constant('m')), version: maybeNasty(fc.constant('1')), contentId: maybeNasty(fc.constant(MODEL.contentId)), ready: maybeNasty(fc.boolean()) }), { maxLength: 3 })),
  pricePerRequest: maybeNasty(nastyNumber),
});

async function signedText(kind: 'registration' | 'heartbeat' | 'oracle-trust', body: Record<string, unknown>, key: NodeKeyPair): Promise<string> {
  const filled = { ...body, nodeId: body.nodeId === 'self' ? key.nodeId : body.nodeId, issuedAtMs: body.issuedAtMs === 'now' ? Date.now() : body.issuedAtMs };
  try {
    return toJsonText(await signBody(kind, filled as never, key.privateKey));
  } catch {
    // Not signable (a number canonical JSON refuses): send it with a made-up signature.
    return toJsonText({ body: filled, signature: 'A'.repeat(86) });
  }
}

function expectDocumented(res: { status: number; json: { error?: { code?: string } } }, context: string) {
  expect(res.status, context).not.toBe(500);
  if (res.status < 300) return;
  expect(isErrorCode(res.json.error?.code), context).toBe(true);
  expect(ERROR_CODES[res.json.error!.code as keyof typeof ERROR_CODES].httpStatus, context).toBe(res.status);
  expect(consoleError, context).not.toHaveBeenCalled();
}

describe('fuzz: node, key, trust and device routes', () => {
  const routes = [
    ['POST', '/v1/nodes/register'],
    ['POST', '/v1/nodes/heartbeat'],
    ['POST', '/v1/keys'],
    ['POST', '/v1/oracle/trust'],
    ['PUT', '/v1/devices/0004a30b001c0530'],
    ['PUT', '/v1/profiles/p2'],
  ] as const;

  it('answers any body on any route with a documented status, changing nothing when it refuses', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...routes), nastyJson, async ([method, path], body) => {
        consoleError.mockClear();
        const before = state();
        const text = toJsonText(body);
        const res = await send(method, path, text);
        expectDocumented(res, `${path} ${text.slice(0, 200)}`);
        if (res.status >= 400) expect(state(), `${path} ${text.slice(0, 200)}`).toBe(before);
        assertNoPollution();
      }),
      bounded(250, 2_000),
    );
  });

  it('refuses mutated registrations and heartbeats, signed for real, without touching the registry', async () => {
    const heartbeat = fc.record({ nodeId: maybeNasty(fc.constant('self'), 8), seq: maybeNasty(fc.oneof(fc.nat(), nastyNumber)), issuedAtMs: maybeNasty(fc.oneof(fc.constant('now'), nastyNumber), 6), models: maybeNasty(fc.constant([MODEL])), draining: maybeNasty(fc.boolean()) });
    await fc.assert(
      fc.asyncProperty(fc.oneof(registrationBody.map((b) => ['registration', b] as const), heartbeat.map((b) => ['heartbeat', b] as const)), async ([kind, body]) => {
        consoleError.mockClear();
        const before = state();
        const text = await signedText(kind, body as Record<string, unknown>, near.keys);
        const res = await send('POST', kind === 'registration' ? '/v1/nodes/register' : '/v1/nodes/heartbeat', text);
        expectDocumented(res, text.slice(0, 300));
        if (res.status >= 400) expect(state(), text.slice(0, 300)).toBe(before);
        assertNoPollution();
      }),
      bounded(150, 2_000),
    );
  });

  it('refuses mutated oracle trust pushes, signed by the configured oracle, without changing trust', async () => {
    const push = fc.record({
      type: maybeNasty(fc.constant('oracle-trust'), 8),
      nodeId: maybeNasty(fc.constant('self'), 8),
      issuedAtMs: maybeNasty(fc.constant('now'), 6),
      seq: maybeNasty(fc.nat(), 6),
      scores: maybeNasty(fc.array(fc.record({ nodeId: maybeNasty(fc.constantFrom(near.keys.nodeId, '__proto__', 'constructor')), score: maybeNasty(fc.double({ min: -1, max: 2, noNaN: true })), reasons: maybeNasty(fc.array(fc.string({ maxLength: 30 }), { maxLength: 3 })), locationVerified: maybeNasty(fc.boolean()) }), { maxLength: 3 })),
    });
    await fc.assert(
      fc.asyncProperty(push, async (body) => {
        consoleError.mockClear();
        const before = state();
        const text = await signedText('oracle-trust', body, oracle);
        const res = await send('POST', '/v1/oracle/trust', text);
        expectDocumented(res, text.slice(0, 300));
        if (res.status >= 400) expect(state(), text.slice(0, 300)).toBe(before);
        assertNoPollution();
      }),
      bounded(150, 1_500),
    );
  });
});
