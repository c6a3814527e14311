import { DeviceRegistry, demoFleetFile, type ProfileInput } from '@hexedge/firmware-bridge';
import { Placement } from '@hexedge/placement';
import { beforeEach, describe, expect, it } from 'vitest';
import { createGatewayApp, MAX_PROFILE_BODY_BYTES } from '../src/index.ts';
import { KEY, keyRing } from './fake-nodes.ts';

const DEV_EUI = 'A84041000181C0FF';
let app: ReturnType<typeof createGatewayApp>['app'];
let registry: DeviceRegistry;
let appKey: string;

/** The demo's comfort profile without its id: the path names it. */
const profile = (): Omit<ProfileInput, 'id'> => {
  const { id: _id, ...rest } = structuredClone(
    demoFleetFile().profiles!.find((p) => p.id === 'room-comfort-lpp')!,
  );
  return rest;
};

async function call(method: string, path: string, body?: unknown, key = KEY) {
  const res = await app.request(path, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return {
    status: res.status,
    body: (text ? JSON.parse(text) : undefined) as Record<string, unknown> & {
      error: { code: string; message: string };
    },
  };
}

beforeEach(async () => {
  registry = new DeviceRegistry();
  const keys = await keyRing();
  appKey = (await keys.create({ name: 'app' })).key;
  ({ app } = createGatewayApp({
    placement: new Placement({ heartbeatIntervalMs: 60_000 }),
    keys,
    devices: registry,
  }));
});

describe('device and profile API (/v1/devices, /v1/profiles)', () => {
  it('creates, reads, replaces, lists and deletes a profile and a device', async () => {
    expect((await call('PUT', '/v1/profiles/room-comfort-lpp', profile())).status).toBe(201);
    expect(
      (await call('PUT', '/v1/profiles/room-comfort-lpp', { ...profile(), description: 'changed' })).status,
    ).toBe(200);
    expect((await call('GET', '/v1/profiles/room-comfort-lpp')).body).toMatchObject({
      id: 'room-comfort-lpp',
      description: 'changed',
      directFPort: 1,
    });
    expect(((await call('GET', '/v1/profiles')).body.profiles as unknown[]).length).toBe(1);

    const put = await call('PUT', `/v1/devices/${DEV_EUI}`, {
      fleet: 'acme',
      profile: 'room-comfort-lpp',
      name: 'lab',
    });
    expect(put).toMatchObject({ status: 201, body: { devEui: DEV_EUI.toLowerCase(), fleet: 'acme' } });
    expect(registry.resolve(DEV_EUI)?.profile.id).toBe('room-comfort-lpp');
    expect((await call('GET', `/v1/devices/${DEV_EUI.toLowerCase()}`)).body).toMatchObject({ name: 'lab' });
    expect(((await call('GET', '/v1/devices?fleet=acme')).body.devices as unknown[]).length).toBe(1);
    expect(((await call('GET', '/v1/devices?fleet=other')).body.devices as unknown[]).length).toBe(0);

    expect((await call('DELETE', `/v1/devices/${DEV_EUI}`)).status).toBe(204);
    expect((await call('GET', `/v1/devices/${DEV_EUI}`)).status).toBe(404);
    expect((await call('DELETE', '/v1/profiles/room-comfort-lpp')).status).toBe(204);
    expect((await call('GET', '/v1/profiles/room-comfort-lpp')).body.error.code).toBe('NOT_FOUND');
  });

  it.each([
    [
      'a profile field out of range',
      'PUT',
      '/v1/profiles/p1',
      (): unknown => ({ ...profile(), downlink: { fPort: 0, encoding: { kind: 'class-index' } } }),
      400,
      /downlink\.fPort/,
    ],
    [
      'an unknown codec kind',
      'PUT',
      '/v1/profiles/p1',
      (): unknown => ({ ...profile(), codec: { kind: 'morse' } }),
      400,
      /codec\.kind/,
    ],
    [
      'a body id that disagrees with the path',
      'PUT',
      '/v1/profiles/p1',
      (): unknown => ({ ...profile(), id: 'p2' }),
      400,
      /id: body says "p2"/,
    ],
    // JSON.parse accepts 100 000 levels; JSON.stringify of them overflows the stack, which once made this a 500.
    [
      'a body id nested 100 000 deep',
      'PUT',
      '/v1/profiles/p1',
      (): unknown => `{"id":${'['.repeat(100_000)}${']'.repeat(100_000)}}`,
      400,
      /id: body says an array of 1 item but the path says 'p1'/,
    ],
    [
      'a body id far longer than an id',
      'PUT',
      '/v1/profiles/p1',
      (): unknown => ({ ...profile(), id: 'p'.repeat(5_000) }),
      400,
      /^id: body says "p{80}"… but the path says 'p1'$/,
    ],
    [
      'a device with an unknown profile',
      'PUT',
      `/v1/devices/${DEV_EUI}`,
      (): unknown => ({ fleet: 'acme', profile: 'nope' }),
      400,
      /profile: no profile 'nope'/,
    ],
    [
      'a malformed DevEUI',
      'PUT',
      '/v1/devices/xyz',
      (): unknown => ({ fleet: 'acme', profile: 'nope' }),
      400,
      /devEui: "xyz" must be 16 hex digits/,
    ],
    [
      'an unknown field',
      'PUT',
      `/v1/devices/${DEV_EUI}`,
      (): unknown => ({ fleet: 'acme', profile: 'nope', colour: 'red' }),
      400,
      /colour/,
    ],
    ['malformed JSON', 'PUT', `/v1/devices/${DEV_EUI}`, (): unknown => '{"fleet":', 400, /JSON/],
    [
      'an unknown device',
      'GET',
      '/v1/devices/0000000000000001',
      (): unknown => undefined,
      404,
      /no device '0000000000000001'/,
    ],
    [
      'an unknown profile',
      'DELETE',
      '/v1/profiles/ghost',
      (): unknown => undefined,
      404,
      /no profile 'ghost'/,
    ],
  ] as const)('refuses %s', async (_what, method, path, body, status, message) => {
    const res = await call(method, path, body());
    expect(res.status).toBe(status);
    expect(res.body.error.message).toMatch(message);
  });

  it('refuses to delete a profile that devices use, naming them', async () => {
    await call('PUT', '/v1/profiles/room-comfort-lpp', profile());
    await call('PUT', `/v1/devices/${DEV_EUI}`, { fleet: 'acme', profile: 'room-comfort-lpp' });
    const res = await call('DELETE', '/v1/profiles/room-comfort-lpp');
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(/used by 1 device\(s\): a84041000181c0ff/);
    expect(registry.getProfile('room-comfort-lpp')).toBeDefined();
  });

  it('needs an admin key and bounds the body', async () => {
    expect((await call('GET', '/v1/devices', undefined, appKey)).status).toBe(403);
    expect((await call('GET', '/v1/devices', undefined, 'wrong-key-123')).status).toBe(401);
    const huge = { ...profile(), description: 'x'.repeat(MAX_PROFILE_BODY_BYTES) };
    expect((await call('PUT', '/v1/profiles/p1', huge)).status).toBe(413);
  });
});
