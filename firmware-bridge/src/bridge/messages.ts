import type { LatLng } from '@hexedge/protocol';
import type { DeviceClass, GatewayReception } from '../chirpstack/events.ts';
import type { CodecLogLine, NormalizedMeasurement } from '../codecs/codec.ts';
import type { LocationMethod } from '../location/resolve-location.ts';
import type { InferAnswer } from '../mapping/answer.ts';
import type { TensorJson } from '../mapping/input-builder.ts';

/** The body the bridge hands to the gateway's inference path (`InferService.infer`'s request). */
export interface BridgeInferRequest {
  model: string;
  version?: string;
  location: LatLng;
  inputs?: TensorJson[];
  input?: unknown;
  /** `fb-{deduplicationId}`: a redelivered uplink hits the gateway's idempotency cache, not a node. */
  id: string;
}

/** The device an inference is for, so the gateway can route it (rollouts' device and fleet canaries). */
export interface InferOrigin {
  devEui: string;
  fleet: string;
}

export interface PublishOptions {
  qos: 0 | 1;
  retain: boolean;
}

export type ErrorCode =
  | 'UNKNOWN_TOPIC'
  | 'PAYLOAD_TOO_LARGE'
  | 'INVALID_EVENT'
  | 'INVALID_PROTOBUF'
  | 'UNKNOWN_DEVICE'
  | 'FCNT_BACKWARDS'
  | 'DECODE_FAILED'
  | 'INPUT_MAPPING_FAILED'
  | 'NO_LOCATION'
  | 'INFERENCE_FAILED';

/** Published on `hexedge/v1/errors/{fleet}/{devEui}` when the device is known. */
export interface ErrorMessage {
  kind: 'error';
  code: ErrorCode;
  message: string;
  fleet?: string;
  devEui?: string;
  topic: string;
  deduplicationId?: string;
  fCnt?: number;
  time: string;
  /** What the device's JS codec printed while failing (console.log/warn/error, bounded per call). */
  codecLog?: CodecLogLine[];
}

export type Delivery = 'next-uplink-rx-windows' | 'next-ping-slot' | 'immediate' | 'mqtt';

export type DownlinkReport =
  | {
      status: 'sent';
      topic: string;
      queueItemId?: string;
      fPort: number;
      confirmed: boolean;
      encoding: string;
      dataHex: string;
      dataBase64: string;
      payloadBytes: number;
      maxPayloadBytes?: number;
      limitBasis?: string;
      /** Set when the primary encoding did not fit and the profile's fallback was sent instead. */
      fallbackReason?: string;
      /** The bytes decoded back by the codec's decodeDownlink (TTN shows downlinks this way). */
      decoded?: Record<string, unknown>;
      /** The encoder's warnings (also logged). */
      warnings?: string[];
      deviceClass?: DeviceClass;
      delivery: Delivery;
    }
  | { status: 'not-sent'; reason: string; deviceClass?: DeviceClass };

export type InferenceReport =
  | {
      status: 'ok';
      requestId: string;
      model: string;
      modelVersion?: string;
      label?: string;
      classIndex?: number;
      confidence?: number;
      probabilities?: Record<string, number>;
      output?: unknown;
      outputs?: InferAnswer['outputs'];
      node: InferAnswer['node'];
      receipt?: unknown;
    }
  | { status: 'buffering'; model: string; haveReadings: number; needReadings: number; note?: string };

/** Published on `hexedge/v1/results/{fleet}/{devEui}` for every uplink that got this far. */
export interface ResultMessage {
  kind: 'result';
  fleet: string;
  devEui: string;
  source: 'chirpstack' | 'direct';
  deduplicationId?: string;
  fCnt?: number;
  fPort: number;
  time: string;
  decoded: Record<string, unknown>;
  /** TTN's normalized payload (a JS codec's normalizeUplink), as a list of measurements. */
  normalized?: NormalizedMeasurement[];
  decodeWarnings: string[];
  /** What the device's JS codec printed (console.log/warn/error, bounded per call), also logged. */
  codecLog?: CodecLogLine[];
  location: LatLng & { method: LocationMethod; gatewayCount?: number };
  inference: InferenceReport;
  downlink: DownlinkReport;
}

/** Which hotspot heard which place at what signal: input for the coverage oracle. */
export interface CoverageEvidence {
  devEui: string;
  fleet: string;
  deduplicationId: string;
  time: string;
  gps: LatLng & { altitudeM?: number };
  receptions: GatewayReception[];
  dr: number;
  regionConfigId?: string;
  frequencyHz?: number;
}

export interface BridgeLogger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface BridgeStats {
  messages: number;
  uplinks: number;
  duplicates: number;
  inferences: number;
  buffering: number;
  downlinks: number;
  fallbacks: number;
  resultsOnly: number;
  coverageEvidence: number;
  events: Record<'join' | 'status' | 'ack' | 'txack' | 'log', number>;
  errors: Partial<Record<ErrorCode, number>>;
}

export function newStats(): BridgeStats {
  return {
    messages: 0,
    uplinks: 0,
    duplicates: 0,
    inferences: 0,
    buffering: 0,
    downlinks: 0,
    fallbacks: 0,
    resultsOnly: 0,
    coverageEvidence: 0,
    events: { join: 0, status: 0, ack: 0, txack: 0, log: 0 },
    errors: {},
  };
}

/** What handleMessage did with one message (for callers and tests; the same facts are published). */
export type MessageOutcome =
  | { status: 'result'; result: ResultMessage }
  | { status: 'duplicate'; deduplicationId: string }
  | { status: 'error'; error: ErrorMessage }
  | { status: 'event'; kind: string; devEui: string };
