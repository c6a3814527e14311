import { HexEdgeError, parseWith } from '@hexedge/protocol';
import { z } from 'zod';
import type { EventInput } from './event-bus.ts';

/**
 * What the firmware bridge (or the oracle) hands the bus. The bridge's own `ResultMessage` and
 * `ErrorMessage` (firmware-bridge/src/bridge/messages.ts) travel as `data`, unchanged, so the fleet
 * view shows exactly what was published on `hexedge/v1/results|errors/{fleet}/{devEui}`. Only the
 * fields the gateway routes on are checked here; the rest is shown as data.
 */
export const FLEET_EVENT_TYPES = ['fleet.result', 'fleet.error'] as const;
export type FleetEventType = (typeof FLEET_EVENT_TYPES)[number];

const FLEET_ID = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/);

export const fleetEventSchema = z
  .object({
    type: z.enum(FLEET_EVENT_TYPES),
    /** The key that owns the fleet, when fleets have owners; admin keys see every fleet. */
    ownerKeyId: z.string().max(64).optional(),
    data: z.looseObject({ fleet: FLEET_ID, devEui: z.string().max(64).optional(), time: z.string().max(64).optional() }),
  })
  .strict();
export type FleetEventBody = z.output<typeof fleetEventSchema>;

/** The bridge's result/error message → a bus event for that fleet's audience. */
export function fleetEvent(input: unknown): EventInput {
  const body = parseWith(fleetEventSchema, input, { what: 'fleet event' });
  return { type: body.type, audience: { kind: 'fleet', fleet: body.data.fleet, ...(body.ownerKeyId ? { ownerKeyId: body.ownerKeyId } : {}) }, data: body.data };
}

const RESULTS_TOPIC = /^hexedge\/v1\/(results|errors)\/([^/]+)\/([^/]+)$/;

/**
 * An MQTT message on the bridge's results or errors topic → a bus event (null for other topics), for
 * an ingress that subscribes to `hexedge/v1/results/#` and `hexedge/v1/errors/#`.
 */
export function fleetEventFromMqtt(topic: string, payload: Uint8Array): EventInput | null {
  const m = RESULTS_TOPIC.exec(topic);
  if (!m) return null;
  let data: unknown;
  try {
    data = JSON.parse(new TextDecoder().decode(payload));
  } catch {
    throw new HexEdgeError('INVALID_JSON', `message on ${topic} is not JSON`);
  }
  return fleetEvent({ type: m[1] === 'results' ? 'fleet.result' : 'fleet.error', data: { fleet: m[2], ...(data as object) } });
}
