import { bytesToHex } from '@hexedge/protocol';
import type { DeviceClass, Marshaling } from '../chirpstack/events.ts';
import { downlinkCommandToProtobuf } from '../chirpstack/protobuf-events.ts';
import { directDownlinkTopic, downlinkCommandTopic } from '../chirpstack/topics.ts';
import type { Codec, CodecLogLine } from '../codecs/codec.ts';
import type { AnswerSummary } from '../mapping/answer.ts';
import { encodeAnswer } from '../mapping/downlink-encoding.ts';
import type { DownlinkSpec } from '../registry/profile-schema.ts';
import { getMaxPayloadBytes } from '../radio/payload-limits.ts';
import type { Delivery, DownlinkReport } from './messages.ts';

export function bytesToBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]!);
  return btoa(binary);
}

/** Class A listens only in RX1/RX2 after its own uplink; Class B at ping slots; Class C all the time. */
const DELIVERY: Record<DeviceClass, Delivery> = {
  A: 'next-uplink-rx-windows',
  B: 'next-ping-slot',
  C: 'immediate',
};

export interface DownlinkPlan {
  report: DownlinkReport;
  message?: { topic: string; payload: Uint8Array | string };
  /** What the encoders printed (console), for the device's log. */
  logs?: CodecLogLine[];
}

/**
 * Encodes the answer, checks it against the radio's payload limit and falls back as the profile says.
 * A downlink that does not fit is never truncated: it takes the fallback or is not sent, with a reason.
 */
export async function planDownlink(options: {
  spec: DownlinkSpec | undefined;
  summary: AnswerSummary;
  /** The profile's encoders for `codec`/`js` encodings (ResolvedDevice.encoders). */
  encoders: { encoding?: Codec; fallback?: Codec };
  recvTimeMs: number;
  target:
    | {
        kind: 'chirpstack';
        applicationId: string;
        devEui: string;
        deviceClass: DeviceClass;
        marshaling: Marshaling;
        dr: number;
        regionConfigId?: string;
      }
    | { kind: 'direct'; devEui: string };
  newId: () => string;
}): Promise<DownlinkPlan> {
  const { spec, summary, encoders, target } = options;
  const deviceClass = target.kind === 'chirpstack' ? target.deviceClass : undefined;
  const classField = deviceClass ? { deviceClass } : {};
  if (!spec) return { report: { status: 'not-sent', reason: 'the profile has no downlink', ...classField } };
  const ctx = { fPort: spec.fPort, recvTimeMs: options.recvTimeMs };
  // Over MQTT (cellular) there is no radio frame to fit; the broker's own limit is far above any answer.
  const limit =
    target.kind === 'chirpstack'
      ? getMaxPayloadBytes({
          dr: target.dr,
          ...(target.regionConfigId ? { regionConfigId: target.regionConfigId } : {}),
        })
      : undefined;

  const primary = await encodeAnswer({ encoding: spec.encoding, summary, encoder: encoders.encoding, ctx });
  const logs: CodecLogLine[] = [...(primary.logs ?? [])];
  const withLogs = (plan: DownlinkPlan): DownlinkPlan => (logs.length > 0 ? { ...plan, logs } : plan);
  let sent: Extract<typeof primary, { ok: true }>;
  let encoding: string = spec.encoding.kind;
  let fallbackReason: string | undefined;
  const tooBig = (b: Uint8Array) => limit !== undefined && b.length > limit.maxPayloadBytes;
  if (primary.ok && !tooBig(primary.bytes)) {
    sent = primary;
  } else {
    fallbackReason = primary.ok
      ? `${spec.encoding.kind} answer is ${primary.bytes.length} bytes, over the ${limit!.maxPayloadBytes}-byte limit of ${limit!.basis}`
      : primary.reason;
    if (spec.fallback.kind === 'results-only') {
      return withLogs({
        report: { status: 'not-sent', reason: `${fallbackReason}; fallback is results-only`, ...classField },
      });
    }
    const second = await encodeAnswer({ encoding: spec.fallback, summary, encoder: encoders.fallback, ctx });
    logs.push(...(second.logs ?? []));
    if (!second.ok)
      return withLogs({
        report: {
          status: 'not-sent',
          reason: `${fallbackReason}; fallback ${spec.fallback.kind} failed: ${second.reason}`,
          ...classField,
        },
      });
    if (tooBig(second.bytes)) {
      return withLogs({
        report: {
          status: 'not-sent',
          reason: `${fallbackReason}; fallback ${spec.fallback.kind} is ${second.bytes.length} bytes, also over the limit`,
          ...classField,
        },
      });
    }
    sent = second;
    encoding = spec.fallback.kind;
  }
  const { bytes } = sent;
  // A TTN codec's encodeDownlink picks the port (multi-port devices); the profile's is the default.
  const fPort = sent.fPort ?? spec.fPort;
  const common = {
    status: 'sent' as const,
    fPort,
    confirmed: spec.confirmed,
    encoding,
    dataHex: bytesToHex(bytes),
    dataBase64: bytesToBase64(bytes),
    payloadBytes: bytes.length,
    ...(fallbackReason ? { fallbackReason } : {}),
    ...(sent.decoded ? { decoded: sent.decoded } : {}),
    ...(sent.warnings ? { warnings: sent.warnings } : {}),
  };
  if (target.kind === 'direct') {
    const topic = directDownlinkTopic(target.devEui);
    return withLogs({ report: { ...common, topic, delivery: 'mqtt' }, message: { topic, payload: bytes } });
  }
  const id = options.newId();
  const topic = downlinkCommandTopic(target.applicationId, target.devEui);
  // ChirpStack v4 `command/down` (docs: Integrations › MQTT): { devEui, confirmed, fPort, data } plus
  // the queue item id that its ack/txack events carry back.
  const command = { id, devEui: target.devEui, confirmed: spec.confirmed, fPort, data: common.dataBase64 };
  const payload =
    target.marshaling === 'protobuf'
      ? downlinkCommandToProtobuf({ ...command, data: bytes })
      : JSON.stringify(command);
  return withLogs({
    report: {
      ...common,
      topic,
      queueItemId: id,
      maxPayloadBytes: limit!.maxPayloadBytes,
      limitBasis: limit!.basis,
      deviceClass: target.deviceClass,
      delivery: DELIVERY[target.deviceClass],
    },
    message: { topic, payload },
  });
}
