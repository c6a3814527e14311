import { deviceSchema, profileSchema } from '@hexedge/firmware-bridge';
import { HexEdgeError } from '@hexedge/protocol';
import { createRoute, z } from '@hono/zod-openapi';
import { deviceListSchema, profileListSchema } from './answers.ts';
import { errors, jsonAnswer, jsonBody } from './content.ts';
import { checked, pathParam } from './params.ts';

/** The firmware bridge's devices and profiles (admin keys only): routes/devices.ts serves them. */

const security = [{ apiKey: [] }];
const tags = ['devices'];

const DEV_EUI = /^[0-9A-Fa-f]{16}$/;
const PROFILE_ID = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const FLEET = /^[a-z0-9][a-z0-9._-]{0,63}$/;

const shown = (s: string) => JSON.stringify(s.slice(0, 80));

function devEui(raw: string): string {
  if (!DEV_EUI.test(raw))
    throw new HexEdgeError('INVALID_REQUEST', `devEui: ${shown(raw)} must be 16 hex digits`, {
      field: 'devEui',
    });
  return raw.toLowerCase();
}

function profileId(raw: string): string {
  if (!PROFILE_ID.test(raw))
    throw new HexEdgeError(
      'INVALID_REQUEST',
      `id: ${shown(raw)} must be 1–64 of a-z 0-9 . _ - starting with a letter or digit`,
      { field: 'id' },
    );
  return raw;
}

function fleet(raw: string | undefined): string | undefined {
  if (raw !== undefined && !FLEET.test(raw))
    throw new HexEdgeError('INVALID_REQUEST', `fleet: ${shown(raw)} is not a fleet id`, { field: 'fleet' });
  return raw;
}

export const devEuiParams = z.object({
  devEui: pathParam(devEui, {
    type: 'string',
    pattern: DEV_EUI.source,
    description: 'the device EUI, 16 hex digits (either case)',
  }),
});
export const profileParams = z.object({
  id: pathParam(profileId, { type: 'string', pattern: PROFILE_ID.source, description: 'the profile id' }),
});
export const deviceListQuery = z.object({
  fleet: checked(fleet, { type: 'string', pattern: FLEET.source, description: 'only this fleet' }),
});

const deviceAnswer = (description: string) =>
  jsonAnswer({ name: 'Device', schema: deviceSchema, description });
const profileAnswer = (description: string) =>
  jsonAnswer({ name: 'Profile', schema: profileSchema, description });
const ADMIN = [401, 403, 429] as const;

export const putDeviceRoute = createRoute({
  method: 'put',
  path: '/v1/devices/{devEui}',
  tags,
  security,
  summary: 'Create or replace a device (the whole record); applies to its next uplink',
  request: {
    params: devEuiParams,
    body: jsonBody({
      name: 'DeviceInput',
      schema: deviceSchema.partial({ devEui: true }),
      description: 'fleet, profile, name, location; a `devEui`, when given, must be the path’s',
    }),
  },
  responses: {
    200: deviceAnswer('replaced'),
    201: deviceAnswer('created'),
    ...errors(400, ...ADMIN, 413, 503),
  },
});

export const getDeviceRoute = createRoute({
  method: 'get',
  path: '/v1/devices/{devEui}',
  tags,
  security,
  summary: 'One device',
  request: { params: devEuiParams },
  responses: { 200: deviceAnswer('the device'), ...errors(400, ...ADMIN, 404) },
});

export const deleteDeviceRoute = createRoute({
  method: 'delete',
  path: '/v1/devices/{devEui}',
  tags,
  security,
  summary: 'Delete a device',
  request: { params: devEuiParams },
  responses: { 204: { description: 'deleted' }, ...errors(400, ...ADMIN, 404, 503) },
});

export const listDevicesRoute = createRoute({
  method: 'get',
  path: '/v1/devices',
  tags,
  security,
  summary: 'Devices, optionally of one fleet',
  request: { query: deviceListQuery },
  responses: {
    200: jsonAnswer({
      name: 'DeviceList',
      schema: deviceListSchema(deviceSchema),
      description: 'the devices',
    }),
    ...errors(400, ...ADMIN),
  },
});

export const putProfileRoute = createRoute({
  method: 'put',
  path: '/v1/profiles/{id}',
  tags,
  security,
  summary: 'Create or replace a device profile: codec, model, input mapping, downlink, location policy',
  request: {
    params: profileParams,
    body: jsonBody({
      name: 'ProfileInput',
      schema: profileSchema.partial({ id: true }),
      description: 'the profile; an `id`, when given, must be the path’s',
    }),
  },
  responses: {
    200: profileAnswer('replaced'),
    201: profileAnswer('created'),
    ...errors(400, ...ADMIN, 413, 503),
  },
});

export const getProfileRoute = createRoute({
  method: 'get',
  path: '/v1/profiles/{id}',
  tags,
  security,
  summary: 'One device profile',
  request: { params: profileParams },
  responses: { 200: profileAnswer('the profile'), ...errors(400, ...ADMIN, 404) },
});

export const deleteProfileRoute = createRoute({
  method: 'delete',
  path: '/v1/profiles/{id}',
  tags,
  security,
  summary: 'Delete a device profile (refused, naming them, while devices use it)',
  request: { params: profileParams },
  responses: { 204: { description: 'deleted' }, ...errors(400, ...ADMIN, 404, 503) },
});

export const listProfilesRoute = createRoute({
  method: 'get',
  path: '/v1/profiles',
  tags,
  security,
  summary: 'Device profiles',
  responses: {
    200: jsonAnswer({
      name: 'ProfileList',
      schema: profileListSchema(profileSchema),
      description: 'the profiles',
    }),
    ...errors(...ADMIN),
  },
});
