import type { DeviceRegistry } from '@hexedge/firmware-bridge';
import { HexEdgeError } from '@hexedge/protocol';
import type { Context, Hono, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { GatewayEnv } from '../auth.ts';
import { readJsonBody } from '../http-errors.ts';

/**
 * A profile may carry a JS codec and a JS downlink encoder of up to 256 KiB each (the registry's
 * limit); JSON string escaping can double that, so 1 MiB bounds any valid profile. Devices are tiny.
 */
export const MAX_PROFILE_BODY_BYTES = 1024 * 1024;
export const MAX_DEVICE_BODY_BYTES = 16 * 1024;

const DEV_EUI = /^[0-9A-Fa-f]{16}$/;
const PROFILE_ID = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const FLEET = /^[a-z0-9][a-z0-9._-]{0,63}$/;

const limit = (maxSize: number) =>
  bodyLimit({
    maxSize,
    onError: () => {
      throw new HexEdgeError('PAYLOAD_TOO_LARGE', `request body exceeds ${maxSize} bytes`);
    },
  });

const shown = (s: string) => JSON.stringify(s.slice(0, 80));

function devEuiParam(c: Context): string {
  const devEui = c.req.param('devEui')!;
  if (!DEV_EUI.test(devEui)) throw new HexEdgeError('INVALID_REQUEST', `devEui: ${shown(devEui)} must be 16 hex digits`, { field: 'devEui' });
  return devEui.toLowerCase();
}

function profileParam(c: Context): string {
  const id = c.req.param('id')!;
  if (!PROFILE_ID.test(id)) throw new HexEdgeError('INVALID_REQUEST', `id: ${shown(id)} must be 1–64 of a-z 0-9 . _ - starting with a letter or digit`, { field: 'id' });
  return id;
}

/** The body as an object whose `key`, when present, must equal the path's (case-insensitively for DevEUIs). */
async function bodyFor(c: Context, key: 'devEui' | 'id', value: string): Promise<Record<string, unknown>> {
  const body = await readJsonBody(c);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new HexEdgeError('INVALID_REQUEST', 'body must be a JSON object');
  const given = (body as Record<string, unknown>)[key];
  if (given !== undefined && (typeof given !== 'string' || given.toLowerCase() !== value.toLowerCase())) {
    throw new HexEdgeError('INVALID_REQUEST', `${key}: body says ${JSON.stringify(given)} but the path says '${value}'`, { field: key });
  }
  return { ...(body as Record<string, unknown>), [key]: value };
}

/**
 * Devices and profiles of the firmware bridge (admin only): `PUT/GET/DELETE /v1/devices/{devEui}`,
 * `GET /v1/devices?fleet=`, `PUT/GET/DELETE /v1/profiles/{id}`, `GET /v1/profiles`. Bodies are
 * validated by the registry's schemas (the error names the field) and written through to its store;
 * a PUT replaces the whole record (201 when it is new). Changes apply to the next uplink.
 */
export function mountDeviceRoutes(app: Hono<GatewayEnv>, options: { registry: DeviceRegistry; admin: MiddlewareHandler<GatewayEnv> }): void {
  const { registry, admin } = options;

  app.put('/v1/devices/:devEui', admin, limit(MAX_DEVICE_BODY_BYTES), async (c) => {
    const devEui = devEuiParam(c);
    const existed = registry.getDevice(devEui) !== undefined;
    const device = registry.putDevice(await bodyFor(c, 'devEui', devEui));
    return c.json(device, existed ? 200 : 201);
  });
  app.get('/v1/devices/:devEui', admin, (c) => {
    const devEui = devEuiParam(c);
    const device = registry.getDevice(devEui);
    if (!device) throw new HexEdgeError('NOT_FOUND', `no device '${devEui}'`);
    return c.json(device);
  });
  app.delete('/v1/devices/:devEui', admin, (c) => {
    const devEui = devEuiParam(c);
    if (!registry.getDevice(devEui)) throw new HexEdgeError('NOT_FOUND', `no device '${devEui}'`);
    registry.deleteDevice(devEui);
    return c.body(null, 204);
  });
  app.get('/v1/devices', admin, (c) => {
    const fleet = c.req.query('fleet');
    if (fleet !== undefined && !FLEET.test(fleet)) throw new HexEdgeError('INVALID_REQUEST', `fleet: ${shown(fleet)} is not a fleet id`, { field: 'fleet' });
    return c.json({ devices: registry.listDevices(fleet !== undefined ? { fleet } : {}) });
  });

  app.put('/v1/profiles/:id', admin, limit(MAX_PROFILE_BODY_BYTES), async (c) => {
    const id = profileParam(c);
    const existed = registry.getProfile(id) !== undefined;
    const profile = registry.putProfile(await bodyFor(c, 'id', id));
    return c.json(profile, existed ? 200 : 201);
  });
  app.get('/v1/profiles/:id', admin, (c) => {
    const id = profileParam(c);
    const profile = registry.getProfile(id);
    if (!profile) throw new HexEdgeError('NOT_FOUND', `no profile '${id}'`);
    return c.json(profile);
  });
  app.delete('/v1/profiles/:id', admin, (c) => {
    const id = profileParam(c);
    if (!registry.getProfile(id)) throw new HexEdgeError('NOT_FOUND', `no profile '${id}'`);
    // The registry refuses (INVALID_REQUEST, naming the devices) while devices still use it.
    registry.deleteProfile(id);
    return c.body(null, 204);
  });
  app.get('/v1/profiles', admin, (c) => c.json({ profiles: registry.listProfiles() }));
}
