import pb from '@chirpstack/chirpstack-api/integration/integration_pb.js';
import { HexEdgeError } from '@hexedge/protocol';
import { receptionLocation, toDeviceClass, type ChirpstackEvent, type ChirpstackEventKind, type DeviceRef } from './events.ts';
import './protobuf-bounds.ts';

/**
 * ChirpStack's protobuf marshaling, through the generated `@chirpstack/chirpstack-api` classes
 * (CommonJS from google-protobuf: the default import is the module, named imports fail at run time).
 */
const { UplinkEvent, JoinEvent, StatusEvent, AckEvent, TxAckEvent, LogEvent, DownlinkCommand, LogLevel, LogCode } = pb;

type Timestamp = { getSeconds(): number; getNanos(): number } | undefined;
type DeviceInfoMessage = ReturnType<InstanceType<typeof UplinkEvent>['getDeviceInfo']>;

const timeOf = (t: Timestamp, nowMs: number) => (t ? t.getSeconds() * 1000 + Math.floor(t.getNanos() / 1e6) : nowMs);
const nameOf = (map: object, value: number) => Object.entries(map).find(([, v]) => v === value)?.[0] ?? String(value);

function deviceRef(info: DeviceInfoMessage, kind: string): DeviceRef {
  const devEui = info?.getDevEui() ?? '';
  if (!/^[0-9A-Fa-f]{16}$/.test(devEui)) {
    throw new HexEdgeError('INVALID_REQUEST', `ChirpStack ${kind} event: deviceInfo.devEui must be 16 hex digits, got ${JSON.stringify(devEui)}`, { field: 'deviceInfo.devEui' });
  }
  if (!info!.getApplicationId()) {
    throw new HexEdgeError('INVALID_REQUEST', `ChirpStack ${kind} event: deviceInfo.applicationId is empty`, { field: 'deviceInfo.applicationId' });
  }
  const tags: Record<string, string> = {};
  info!.getTagsMap().forEach((v: string, k: string) => (tags[k] = v));
  return {
    devEui: devEui.toLowerCase(),
    applicationId: info!.getApplicationId(),
    ...(info!.getTenantId() ? { tenantId: info!.getTenantId() } : {}),
    ...(info!.getDeviceProfileName() ? { deviceProfileName: info!.getDeviceProfileName() } : {}),
    deviceClass: toDeviceClass(info!.getDeviceClassEnabled()),
    tags,
  };
}

function deserialize<T>(kind: string, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    // google-protobuf reports a malformed buffer as a bare assertion failure.
    throw new HexEdgeError('INVALID_REQUEST', `ChirpStack ${kind} event is not a valid protobuf message: ${(err as Error).message}`);
  }
}

export function parseProtobufEvent(options: { kind: ChirpstackEventKind; bytes: Uint8Array; nowMs: number }): ChirpstackEvent {
  const { kind, bytes, nowMs } = options;
  const marshaling = 'protobuf' as const;
  switch (kind) {
    case 'up': {
      const e = deserialize(kind, () => UplinkEvent.deserializeBinary(bytes));
      const dedup = e.getDeduplicationId();
      if (!dedup) throw new HexEdgeError('INVALID_REQUEST', 'ChirpStack up event: deduplicationId is empty', { field: 'deduplicationId' });
      const fPort = e.getFPort();
      const dr = e.getDr();
      if (fPort > 255 || dr > 15) throw new HexEdgeError('INVALID_REQUEST', `ChirpStack up event: fPort ${fPort} or dr ${dr} out of range`);
      const frequency = e.getTxInfo()?.getFrequency();
      return {
        kind,
        marshaling,
        deduplicationId: dedup,
        timeMs: timeOf(e.getTime(), nowMs),
        device: deviceRef(e.getDeviceInfo(), kind),
        ...(e.getDevAddr() ? { devAddr: e.getDevAddr() } : {}),
        fCnt: e.getFCnt(),
        fPort,
        confirmed: e.getConfirmed(),
        data: e.getData_asU8(),
        dr,
        ...(e.getRegionConfigId() ? { regionConfigId: e.getRegionConfigId() } : {}),
        rxInfo: e.getRxInfoList().map((r) => {
          const location = receptionLocation(r.getLocation()?.toObject());
          return { gatewayId: r.getGatewayId(), rssiDbm: r.getRssi(), snrDb: r.getSnr(), ...(location ? { location } : {}) };
        }),
        ...(frequency ? { frequencyHz: frequency } : {}),
      };
    }
    case 'join': {
      const e = deserialize(kind, () => JoinEvent.deserializeBinary(bytes));
      return { kind, marshaling, deduplicationId: e.getDeduplicationId(), timeMs: timeOf(e.getTime(), nowMs), device: deviceRef(e.getDeviceInfo(), kind), ...(e.getDevAddr() ? { devAddr: e.getDevAddr() } : {}) };
    }
    case 'status': {
      const e = deserialize(kind, () => StatusEvent.deserializeBinary(bytes));
      return {
        kind,
        marshaling,
        deduplicationId: e.getDeduplicationId(),
        timeMs: timeOf(e.getTime(), nowMs),
        device: deviceRef(e.getDeviceInfo(), kind),
        marginDb: e.getMargin(),
        externalPowerSource: e.getExternalPowerSource(),
        ...(e.getBatteryLevelUnavailable() || e.getExternalPowerSource() ? {} : { batteryLevelPct: e.getBatteryLevel() }),
      };
    }
    case 'ack': {
      const e = deserialize(kind, () => AckEvent.deserializeBinary(bytes));
      return { kind, marshaling, timeMs: timeOf(e.getTime(), nowMs), device: deviceRef(e.getDeviceInfo(), kind), queueItemId: e.getQueueItemId(), acknowledged: e.getAcknowledged(), fCntDown: e.getFCntDown() };
    }
    case 'txack': {
      const e = deserialize(kind, () => TxAckEvent.deserializeBinary(bytes));
      return { kind, marshaling, timeMs: timeOf(e.getTime(), nowMs), device: deviceRef(e.getDeviceInfo(), kind), queueItemId: e.getQueueItemId(), fCntDown: e.getFCntDown(), gatewayId: e.getGatewayId() };
    }
    case 'log': {
      const e = deserialize(kind, () => LogEvent.deserializeBinary(bytes));
      return {
        kind,
        marshaling,
        timeMs: timeOf(e.getTime(), nowMs),
        device: deviceRef(e.getDeviceInfo(), kind),
        level: nameOf(LogLevel, e.getLevel()),
        code: nameOf(LogCode, e.getCode()),
        description: e.getDescription(),
      };
    }
  }
}

/** `integration.DownlinkCommand` bytes for `command/down` when ChirpStack marshals protobuf. */
export function downlinkCommandToProtobuf(command: { id: string; devEui: string; confirmed: boolean; fPort: number; data: Uint8Array }): Uint8Array {
  const message = new DownlinkCommand();
  message.setId(command.id);
  message.setDevEui(command.devEui);
  message.setConfirmed(command.confirmed);
  message.setFPort(command.fPort);
  message.setData(command.data);
  return message.serializeBinary();
}
