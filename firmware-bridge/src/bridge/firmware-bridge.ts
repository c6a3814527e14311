import { isHexEdgeError } from '@hexedge/protocol';
import type { ChirpstackEvent, ChirpstackEventKind, Marshaling, UplinkEvent } from '../chirpstack/events.ts';
import type { CodecLogLine } from '../codecs/codec.ts';
import { parseJsonEvent } from '../chirpstack/json-events.ts';
import { parseProtobufEvent } from '../chirpstack/protobuf-events.ts';
import { errorsTopic, parseTopic, resultsTopic } from '../chirpstack/topics.ts';
import type { InferAnswer } from '../mapping/answer.ts';
import { InputBuilder } from '../mapping/input-builder.ts';
import type { DeviceRegistry } from '../registry/device-registry.ts';
import { DedupCache } from './dedup-cache.ts';
import { DEFAULT_FCNT_DEVICES, FrameCounters } from './frame-counters.ts';
import {
  newStats,
  type BridgeInferRequest,
  type InferOrigin,
  type BridgeLogger,
  type BridgeStats,
  type CoverageEvidence,
  type ErrorCode,
  type ErrorMessage,
  type MessageOutcome,
  type PublishOptions,
} from './messages.ts';
import { runUplinkPipeline, type UplinkInput } from './uplink-pipeline.ts';

/** ChirpStack events are a few kB; anything far larger is not one (and is not parsed). */
export const MAX_EVENT_BYTES = 256 * 1024;
/** Deduplication ids remembered: at one uplink per device per minute, 10 minutes of a 1,000-device fleet. */
export const DEFAULT_DEDUP_ENTRIES = 10_000;

export interface FirmwareBridgeOptions {
  registry: DeviceRegistry;
  /** The gateway's inference path (InferService.infer's body → its response). */
  /** `origin`: the device and its fleet (the gateway's cache and traces are per fleet; rollouts' canaries pick by them). */
  infer: (request: BridgeInferRequest, origin: InferOrigin) => Promise<InferAnswer>;
  publish: (topic: string, payload: Uint8Array | string, options: PublishOptions) => void | Promise<void>;
  clock?: { nowMs(): number };
  logger?: BridgeLogger;
  onCoverageEvidence?: (evidence: CoverageEvidence) => void;
  /** How ChirpStack marshals events; `auto` tells JSON (`{`) from protobuf per message. */
  marshaling?: Marshaling | 'auto';
  dedupEntries?: number;
  /** Devices whose last frame counter is kept (least recently heard dropped first). */
  fCntDevices?: number;
  /** Downlink queue item ids (UUIDs); injectable for tests. */
  newId?: () => string;
}

const SILENT: BridgeLogger = { info: () => {}, warn: () => {}, error: () => {} };

/**
 * The ChirpStack/MQTT side of HexEdge: give it every message of BRIDGE_SUBSCRIPTIONS and it decodes,
 * infers through `infer`, and publishes downlinks, results and errors through `publish`. Runtime-
 * neutral: the gateway's MQTT ingress (Node) or a Worker can drive it.
 */
export class FirmwareBridge {
  readonly stats: BridgeStats = newStats();
  readonly #o: Required<Omit<FirmwareBridgeOptions, 'onCoverageEvidence'>> &
    Pick<FirmwareBridgeOptions, 'onCoverageEvidence'>;
  readonly #dedup: DedupCache;
  readonly #inputs = new InputBuilder();
  readonly #fCnt: FrameCounters;
  readonly #queues = new Map<string, Promise<unknown>>();

  constructor(options: FirmwareBridgeOptions) {
    this.#o = {
      clock: { nowMs: () => Date.now() },
      logger: SILENT,
      marshaling: 'auto',
      dedupEntries: DEFAULT_DEDUP_ENTRIES,
      fCntDevices: DEFAULT_FCNT_DEVICES,
      newId: () => crypto.randomUUID(),
      ...options,
    };
    this.#dedup = new DedupCache({ maxEntries: this.#o.dedupEntries });
    this.#fCnt = new FrameCounters({ maxDevices: this.#o.fCntDevices });
    // A removed (or re-provisioned) device's counter and window go with it: nothing outlives a device.
    this.#o.registry.onDeviceRemoved((devEui) => {
      this.#fCnt.forget(devEui);
      this.#inputs.reset(devEui);
    });
  }

  /** Devices whose frame counter is kept (bounded by `fCntDevices`). */
  get trackedDevices(): number {
    return this.#fCnt.size;
  }

  /** Handles one MQTT message. Never throws for bad input: that becomes an error event. */
  async handleMessage(topic: string, payload: Uint8Array): Promise<MessageOutcome> {
    this.stats.messages++;
    const parsed = parseTopic(topic);
    if (parsed.kind === 'unknown')
      return this.#fail({
        topic,
        code: 'UNKNOWN_TOPIC',
        message: `topic '${topic}' is not a ChirpStack event or hexedge/v1/uplink topic`,
      });
    const devEui = parsed.devEui;
    if (payload.length > MAX_EVENT_BYTES)
      return this.#fail({
        topic,
        devEui,
        code: 'PAYLOAD_TOO_LARGE',
        message: `message is ${payload.length} bytes, over ${MAX_EVENT_BYTES}`,
      });
    if (parsed.kind === 'direct') return this.#direct(topic, devEui, payload);

    let event: ChirpstackEvent;
    try {
      event = this.#parse(parsed.event, payload);
    } catch (err) {
      const protobuf = this.#marshalingOf(payload) === 'protobuf';
      return this.#fail({
        topic,
        devEui,
        code: protobuf ? 'INVALID_PROTOBUF' : 'INVALID_EVENT',
        message: (err as Error).message,
      });
    }
    if (event.device.devEui !== devEui) {
      return this.#fail({
        topic,
        devEui,
        code: 'INVALID_EVENT',
        message: `deviceInfo.devEui ${event.device.devEui} does not match the topic's ${devEui}`,
      });
    }
    if (event.kind !== 'up') return this.#deviceEvent(event);
    return this.#uplink(topic, event);
  }

  #marshalingOf(payload: Uint8Array): Marshaling {
    if (this.#o.marshaling !== 'auto') return this.#o.marshaling;
    let i = 0;
    while (
      i < payload.length &&
      (payload[i] === 0x20 || payload[i] === 0x0a || payload[i] === 0x0d || payload[i] === 0x09)
    )
      i++;
    // 0x7b ('{') would be protobuf field 15 as a group, which no ChirpStack event uses.
    return payload[i] === 0x7b ? 'json' : 'protobuf';
  }

  #parse(kind: ChirpstackEventKind, payload: Uint8Array): ChirpstackEvent {
    const nowMs = this.#o.clock.nowMs();
    if (this.#marshalingOf(payload) === 'protobuf')
      return parseProtobufEvent({ kind, bytes: payload, nowMs });
    let body: unknown;
    try {
      body = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
    } catch (err) {
      throw new Error(`ChirpStack ${kind} event is not JSON: ${(err as Error).message}`);
    }
    return parseJsonEvent({ kind, body, nowMs });
  }

  #uplink(topic: string, event: UplinkEvent): Promise<MessageOutcome> {
    this.stats.uplinks++;
    const { devEui } = event.device;
    if (!this.#dedup.firstTime(event.deduplicationId)) {
      this.stats.duplicates++;
      this.#o.logger.info(`${devEui}: duplicate delivery of ${event.deduplicationId} ignored`);
      return Promise.resolve({ status: 'duplicate', deduplicationId: event.deduplicationId });
    }
    const resolved = this.#o.registry.resolve(devEui);
    const ids = { topic, devEui, deduplicationId: event.deduplicationId, fCnt: event.fCnt };
    if (!resolved)
      return this.#fail({
        ...ids,
        code: 'UNKNOWN_DEVICE',
        message: `device ${devEui} is not registered with HexEdge`,
      });
    // Checked before any await, so two uplinks of one device are judged in arrival order.
    const counted = this.#fCnt.accept(devEui, event.fCnt);
    if (!counted.ok) {
      return this.#fail({
        ...ids,
        fleet: resolved.device.fleet,
        code: 'FCNT_BACKWARDS',
        message: `fCnt ${event.fCnt} is not above the last processed ${counted.lastFCnt}; replayed or reordered uplink not re-inferred`,
      });
    }
    const input: UplinkInput = {
      source: 'chirpstack',
      devEui,
      data: event.data,
      fPort: event.fPort,
      timeMs: event.timeMs,
      requestId: `fb-${event.deduplicationId}`,
      rxInfo: event.rxInfo,
      chirpstack: {
        applicationId: event.device.applicationId,
        marshaling: event.marshaling,
        deduplicationId: event.deduplicationId,
        fCnt: event.fCnt,
        dr: event.dr,
        deviceClass: event.device.deviceClass,
        ...(event.regionConfigId ? { regionConfigId: event.regionConfigId } : {}),
        ...(event.frequencyHz ? { frequencyHz: event.frequencyHz } : {}),
      },
    };
    return this.#serial(devEui, () => this.#run({ ...ids, fleet: resolved.device.fleet }, input));
  }

  #direct(topic: string, devEui: string, payload: Uint8Array): Promise<MessageOutcome> {
    this.stats.uplinks++;
    const resolved = this.#o.registry.resolve(devEui);
    if (!resolved)
      return this.#fail({
        topic,
        devEui,
        code: 'UNKNOWN_DEVICE',
        message: `device ${devEui} is not registered with HexEdge`,
      });
    const nowMs = this.#o.clock.nowMs();
    const input: UplinkInput = {
      source: 'direct',
      devEui,
      data: payload,
      fPort: resolved.profile.directFPort,
      timeMs: nowMs,
      requestId: `fb-${devEui}-${this.#o.newId()}`,
      rxInfo: [],
    };
    return this.#serial(devEui, () => this.#run({ topic, devEui, fleet: resolved.device.fleet }, input));
  }

  /** One device's uplinks run one after another: its window must see readings in order. */
  #serial<T>(devEui: string, task: () => Promise<T>): Promise<T> {
    const previous = this.#queues.get(devEui) ?? Promise.resolve();
    const next = previous.then(task, task);
    this.#queues.set(devEui, next);
    void next.finally(() => this.#queues.get(devEui) === next && this.#queues.delete(devEui)).catch(() => {});
    return next;
  }

  async #run(
    ids: { topic: string; devEui: string; fleet: string; deduplicationId?: string; fCnt?: number },
    input: UplinkInput,
  ): Promise<MessageOutcome> {
    const resolved = this.#o.registry.resolve(input.devEui);
    if (!resolved)
      return this.#fail({ ...ids, code: 'UNKNOWN_DEVICE', message: `device ${input.devEui} was removed` });
    let outcome;
    try {
      outcome = await runUplinkPipeline(
        { infer: this.#o.infer, inputs: this.#inputs, newId: this.#o.newId },
        input,
        resolved,
      );
    } catch (err) {
      // Only an infrastructure fault gets here; it still fails this message only.
      outcome = {
        ok: false as const,
        code: 'INFERENCE_FAILED' as const,
        message: `internal: ${isHexEdgeError(err) ? err.message : String(err)}`,
      };
    }
    this.#logCodec(ids.devEui, outcome.ok ? outcome.result.codecLog : outcome.codecLog);
    if (!outcome.ok)
      return this.#fail({
        ...ids,
        code: outcome.code,
        message: outcome.message,
        ...(outcome.codecLog ? { codecLog: outcome.codecLog } : {}),
      });
    const { result } = outcome;
    // TTN's warnings are informative: the uplink goes on, and the device's log says why to look.
    for (const w of result.decodeWarnings) this.#o.logger.warn(`${ids.devEui}: codec warning: ${w}`);
    if (result.downlink.status === 'sent')
      for (const w of result.downlink.warnings ?? [])
        this.#o.logger.warn(`${ids.devEui}: downlink encoder warning: ${w}`);
    if (outcome.evidence) {
      this.stats.coverageEvidence++;
      this.#o.onCoverageEvidence?.(outcome.evidence);
    }
    if (result.inference.status === 'buffering') this.stats.buffering++;
    else this.stats.inferences++;
    if (outcome.downlink) {
      await this.#o.publish(outcome.downlink.topic, outcome.downlink.payload, { qos: 1, retain: false });
      this.stats.downlinks++;
    }
    const d = result.downlink;
    if (d.status === 'sent' && d.fallbackReason) {
      this.stats.fallbacks++;
      this.#o.logger.warn(`${ids.devEui}: downlink fell back to ${d.encoding}: ${d.fallbackReason}`);
    }
    if (d.status === 'not-sent' && result.inference.status === 'ok') {
      this.stats.resultsOnly++;
      this.#o.logger.warn(`${ids.devEui}: no downlink: ${d.reason}`);
    }
    await this.#o.publish(resultsTopic(result.fleet, result.devEui), JSON.stringify(result), {
      qos: 1,
      retain: false,
    });
    return { status: 'result', result };
  }

  /** A JS codec's console lines, in the device's log (bounded per call by the sandbox). */
  #logCodec(devEui: string, lines: CodecLogLine[] | undefined): void {
    for (const line of lines ?? [])
      this.#o.logger[line.level](
        `${devEui}: codec console.${line.level === 'info' ? 'log' : line.level}: ${line.message}`,
      );
  }

  #deviceEvent(event: Exclude<ChirpstackEvent, UplinkEvent>): MessageOutcome {
    const devEui = event.device.devEui;
    this.stats.events[event.kind]++;
    const log = this.#o.logger;
    switch (event.kind) {
      case 'join':
        // A (re)join resets the device's frame counters to 0: forget the old ones and its window.
        this.#fCnt.forget(devEui);
        this.#inputs.reset(devEui);
        log.info(`${devEui}: joined${event.devAddr ? ` as ${event.devAddr}` : ''}`);
        break;
      case 'status':
        log.info(
          `${devEui}: status margin ${event.marginDb} dB, battery ${event.batteryLevelPct === undefined ? 'n/a' : `${event.batteryLevelPct} %`}`,
        );
        break;
      case 'ack':
        (event.acknowledged ? (m: string) => log.info(m) : (m: string) => log.warn(m))(
          `${devEui}: confirmed downlink ${event.queueItemId} ${event.acknowledged ? 'acknowledged' : 'NOT acknowledged'} (fCntDown ${event.fCntDown})`,
        );
        break;
      case 'txack':
        log.info(`${devEui}: downlink ${event.queueItemId} transmitted by gateway ${event.gatewayId}`);
        break;
      case 'log':
        (event.level === 'INFO' ? (m: string) => log.info(m) : (m: string) => log.warn(m))(
          `${devEui}: ChirpStack ${event.level} ${event.code}: ${event.description}`,
        );
        break;
    }
    return { status: 'event', kind: event.kind, devEui };
  }

  async #fail(e: {
    topic: string;
    code: ErrorCode;
    message: string;
    devEui?: string;
    fleet?: string;
    deduplicationId?: string;
    fCnt?: number;
    codecLog?: CodecLogLine[];
  }): Promise<MessageOutcome> {
    this.stats.errors[e.code] = (this.stats.errors[e.code] ?? 0) + 1;
    const fleet = e.fleet ?? (e.devEui ? this.#o.registry.getDevice(e.devEui)?.fleet : undefined);
    const error: ErrorMessage = {
      kind: 'error',
      code: e.code,
      message: e.message,
      ...(fleet ? { fleet } : {}),
      ...(e.devEui ? { devEui: e.devEui } : {}),
      topic: e.topic,
      ...(e.deduplicationId ? { deduplicationId: e.deduplicationId } : {}),
      ...(e.fCnt !== undefined ? { fCnt: e.fCnt } : {}),
      time: new Date(this.#o.clock.nowMs()).toISOString(),
      ...(e.codecLog ? { codecLog: e.codecLog } : {}),
    };
    this.#o.logger.warn(`${e.devEui ?? e.topic}: ${e.code}: ${e.message}`);
    if (fleet && e.devEui)
      await this.#o.publish(errorsTopic(fleet, e.devEui), JSON.stringify(error), { qos: 0, retain: false });
    return { status: 'error', error };
  }
}
