import type { DeviceRegistry } from '@hexedge/firmware-bridge';
import { HexEdgeError, quoteValue } from '@hexedge/protocol';
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { GatewayEnv } from '../auth.ts';
import { readJsonBody } from '../http-errors.ts';
import {
  deleteDeviceRoute,
  deleteProfileRoute,
  devEuiParams,
  deviceListQuery,
  getDeviceRoute,
  getProfileRoute,
  listDevicesRoute,
  listProfilesRoute,
  profileParams,
  putDeviceRoute,
  putProfileRoute,
} from '../openapi/device-routes.ts';
import { mount, type GatewayApp } from '../openapi/mount.ts';
import { valid } from '../openapi/params.ts';

/**
 * A profile may carry a JS codec and a JS downlink encoder of up to 256 KiB each (the registry's
 * limit); JSON string escaping can double that, so 1 MiB bounds any valid profile. Devices are tiny.
 */
export const MAX_PROFILE_BODY_BYTES = 1024 * 1024;
export const MAX_DEVICE_BODY_BYTES = 16 * 1024;

const limit = (maxSize: number) =>
  bodyLimit({
    maxSize,
    onError: () => {
      throw new HexEdgeError('PAYLOAD_TOO_LARGE', `request body exceeds ${maxSize} bytes`);
    },
  });

/** The body as an object whose `key`, when present, must equal the path's (case-insensitively for DevEUIs). */
async function bodyFor(c: Context, key: 'devEui' | 'id', value: string): Promise<Record<string, unknown>> {
  const body = await readJsonBody(c);
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new HexEdgeError('INVALID_REQUEST', 'body must be a JSON object');
  const given = (body as Record<string, unknown>)[key];
  if (given !== undefined && (typeof given !== 'string' || given.toLowerCase() !== value.toLowerCase())) {
    throw new HexEdgeError(
      'INVALID_REQUEST',
      `${key}: body says ${quoteValue(given)} but the path says '${value}'`,
      { field: key },
    );
  }
  return { ...(body as Record<string, unknown>), [key]: value };
}

/**
 * Devices and profiles of the firmware bridge (admin only): `PUT/GET/DELETE /v1/devices/{devEui}`,
 * `GET /v1/devices?fleet=`, `PUT/GET/DELETE /v1/profiles/{id}`, `GET /v1/profiles`. Bodies are
 * validated by the registry's schemas (the error names the field) and written through to its store;
 * a PUT replaces the whole record (201 when it is new). Changes apply to the next uplink.
 */
export function mountDeviceRoutes(
  app: GatewayApp,
  options: { registry: DeviceRegistry; admin: MiddlewareHandler<GatewayEnv> },
): void {
  const { registry, admin } = options;
  const devEuiOf = (c: Context) => valid(c, 'param', devEuiParams).devEui;
  const profileIdOf = (c: Context) => valid(c, 'param', profileParams).id;

  mount(app, putDeviceRoute, admin, limit(MAX_DEVICE_BODY_BYTES), async (c) => {
    const devEui = devEuiOf(c);
    const existed = registry.getDevice(devEui) !== undefined;
    const device = registry.putDevice(await bodyFor(c, 'devEui', devEui));
    return c.json(device, existed ? 200 : 201);
  });
  mount(app, getDeviceRoute, admin, (c) => {
    const devEui = devEuiOf(c);
    const device = registry.getDevice(devEui);
    if (!device) throw new HexEdgeError('NOT_FOUND', `no device '${devEui}'`);
    return c.json(device);
  });
  mount(app, deleteDeviceRoute, admin, (c) => {
    const devEui = devEuiOf(c);
    if (!registry.getDevice(devEui)) throw new HexEdgeError('NOT_FOUND', `no device '${devEui}'`);
    registry.deleteDevice(devEui);
    return c.body(null, 204);
  });
  mount(app, listDevicesRoute, admin, (c) => {
    const { fleet } = valid(c, 'query', deviceListQuery);
    return c.json({ devices: registry.listDevices(fleet !== undefined ? { fleet } : {}) });
  });

  mount(app, putProfileRoute, admin, limit(MAX_PROFILE_BODY_BYTES), async (c) => {
    const id = profileIdOf(c);
    const existed = registry.getProfile(id) !== undefined;
    const profile = registry.putProfile(await bodyFor(c, 'id', id));
    return c.json(profile, existed ? 200 : 201);
  });
  mount(app, getProfileRoute, admin, (c) => {
    const id = profileIdOf(c);
    const profile = registry.getProfile(id);
    if (!profile) throw new HexEdgeError('NOT_FOUND', `no profile '${id}'`);
    return c.json(profile);
  });
  mount(app, deleteProfileRoute, admin, (c) => {
    const id = profileIdOf(c);
    if (!registry.getProfile(id)) throw new HexEdgeError('NOT_FOUND', `no profile '${id}'`);
    // The registry refuses (INVALID_REQUEST, naming the devices) while devices still use it.
    registry.deleteProfile(id);
    return c.body(null, 204);
  });
  mount(app, listProfilesRoute, admin, (c) => c.json({ profiles: registry.listProfiles() }));
}
