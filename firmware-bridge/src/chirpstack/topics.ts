import type { ChirpstackEventKind } from './events.ts';
import { CHIRPSTACK_EVENT_KINDS } from './events.ts';

/**
 * Topics. ChirpStack v4's MQTT integration publishes `application/{applicationId}/device/{devEui}/
 * event/{kind}` and takes `…/command/down`; HexEdge's own topics are versioned under `hexedge/v1/`.
 */
export const CHIRPSTACK_EVENT_FILTERS = CHIRPSTACK_EVENT_KINDS.map((k) => `application/+/device/+/event/${k}`);
export const DIRECT_UPLINK_FILTER = 'hexedge/v1/uplink/+';
/** Everything the gateway's MQTT ingress should subscribe to on the bridge's behalf. */
export const BRIDGE_SUBSCRIPTIONS: readonly string[] = [...CHIRPSTACK_EVENT_FILTERS, DIRECT_UPLINK_FILTER];

export type ParsedTopic =
  | { kind: 'chirpstack'; applicationId: string; devEui: string; event: ChirpstackEventKind }
  | { kind: 'direct'; devEui: string }
  | { kind: 'unknown' };

const CHIRPSTACK = /^application\/([^/]+)\/device\/([0-9A-Fa-f]{16})\/event\/([a-z]+)$/;
const DIRECT = /^hexedge\/v1\/uplink\/([0-9A-Fa-f]{16})$/;

export function parseTopic(topic: string): ParsedTopic {
  const c = CHIRPSTACK.exec(topic);
  if (c && (CHIRPSTACK_EVENT_KINDS as readonly string[]).includes(c[3]!)) {
    return { kind: 'chirpstack', applicationId: c[1]!, devEui: c[2]!.toLowerCase(), event: c[3] as ChirpstackEventKind };
  }
  const d = DIRECT.exec(topic);
  if (d) return { kind: 'direct', devEui: d[1]!.toLowerCase() };
  return { kind: 'unknown' };
}

export const downlinkCommandTopic = (applicationId: string, devEui: string) => `application/${applicationId}/device/${devEui}/command/down`;
export const directDownlinkTopic = (devEui: string) => `hexedge/v1/downlink/${devEui}`;
export const resultsTopic = (fleet: string, devEui: string) => `hexedge/v1/results/${fleet}/${devEui}`;
export const errorsTopic = (fleet: string, devEui: string) => `hexedge/v1/errors/${fleet}/${devEui}`;
