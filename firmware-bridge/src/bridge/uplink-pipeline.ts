import { isHexEdgeError } from '@hexedge/protocol';
import type { DeviceClass, GatewayReception, Marshaling } from '../chirpstack/events.ts';
import type { CodecLogLine, DecodeResult } from '../codecs/codec.ts';
import { findGpsFix, resolveLocation } from '../location/resolve-location.ts';
import { summarizeAnswer, type InferAnswer } from '../mapping/answer.ts';
import type { BuiltInput, InputBuilder } from '../mapping/input-builder.ts';
import type { ResolvedDevice } from '../registry/device-registry.ts';
import { planDownlink, type DownlinkPlan } from './downlink.ts';
import type { BridgeInferRequest, InferOrigin, CoverageEvidence, ErrorCode, ResultMessage } from './messages.ts';

/** One uplink, from ChirpStack or straight from a cellular device, in the shape the pipeline needs. */
export interface UplinkInput {
  source: 'chirpstack' | 'direct';
  devEui: string;
  data: Uint8Array;
  fPort: number;
  timeMs: number;
  requestId: string;
  rxInfo: GatewayReception[];
  chirpstack?: {
    applicationId: string;
    marshaling: Marshaling;
    deduplicationId: string;
    fCnt: number;
    dr: number;
    regionConfigId?: string;
    deviceClass: DeviceClass;
    frequencyHz?: number;
  };
}

export type PipelineOutcome =
  | { ok: true; result: ResultMessage; downlink?: DownlinkPlan['message']; evidence?: CoverageEvidence }
  | { ok: false; code: ErrorCode; message: string; codecLog?: CodecLogLine[] };

export interface PipelineDeps {
  /** `origin`: the device and its fleet (the gateway's cache and traces are per fleet; rollouts' canaries pick by them). */
  infer: (request: BridgeInferRequest, origin: InferOrigin) => Promise<InferAnswer>;
  inputs: InputBuilder;
  newId: () => string;
}

/**
 * The profile's input from the decoded payload, or from TTN's normalized payload (each measurement
 * in order, at its own `time` when it has one) when the profile's input says `payload: 'normalized'`.
 */
function buildInput(
  deps: PipelineDeps,
  options: {
    resolved: ResolvedDevice;
    decodedResult: DecodeResult & { data: Record<string, unknown> };
    timeMs: number;
  },
): BuiltInput {
  const { device, profile } = options.resolved;
  const { data, normalized } = options.decodedResult;
  if (profile.input.payload === 'decoded')
    return deps.inputs.build({
      devEui: device.devEui,
      spec: profile.input,
      decoded: data,
      timeMs: options.timeMs,
    });
  if (!normalized)
    return {
      status: 'invalid',
      reason: "reads the normalized payload, but the codec gave none (a JS codec's normalizeUplink makes it)",
    };
  const payloads = normalized.map((m) => {
    const timeMs = typeof m.time === 'string' ? Date.parse(m.time) : options.timeMs;
    return { payload: m, timeMs };
  });
  return deps.inputs.buildSeries({
    devEui: device.devEui,
    spec: profile.input,
    payloads,
    what: (i) => `normalized measurement ${i}`,
  });
}

/** decode → location → model input → infer → downlink. Every failure is a value; nothing is half-sent. */
export async function runUplinkPipeline(
  deps: PipelineDeps,
  uplink: UplinkInput,
  resolved: ResolvedDevice,
): Promise<PipelineOutcome> {
  const { device, profile, codec } = resolved;
  const cs = uplink.chirpstack;
  const decodedResult = await codec.decode(uplink.data, { fPort: uplink.fPort, recvTimeMs: uplink.timeMs });
  const codecLog: CodecLogLine[] = [...(decodedResult.logs ?? [])];
  const logField = () => (codecLog.length > 0 ? { codecLog } : {});
  if (!decodedResult.data)
    return {
      ok: false,
      code: 'DECODE_FAILED',
      message: decodedResult.errors.join('; ') || 'codec returned no data',
      ...logField(),
    };
  const decoded = decodedResult.data;

  const gps = findGpsFix(decoded, profile.location.gpsField);
  const evidence: CoverageEvidence | undefined =
    gps && cs && uplink.rxInfo.length > 0
      ? {
          devEui: device.devEui,
          fleet: device.fleet,
          deduplicationId: cs.deduplicationId,
          time: new Date(uplink.timeMs).toISOString(),
          gps,
          receptions: uplink.rxInfo,
          dr: cs.dr,
          ...(cs.regionConfigId ? { regionConfigId: cs.regionConfigId } : {}),
          ...(cs.frequencyHz ? { frequencyHz: cs.frequencyHz } : {}),
        }
      : undefined;
  const location = resolveLocation({
    policy: profile.location,
    ...(device.location ? { deviceLocation: device.location } : {}),
    ...(gps ? { gps } : {}),
    receptions: uplink.rxInfo,
  });
  if (!location.ok) return { ok: false, code: 'NO_LOCATION', message: location.reason, ...logField() };

  const built = buildInput(deps, {
    resolved,
    decodedResult: { ...decodedResult, data: decoded },
    timeMs: uplink.timeMs,
  });
  if (built.status === 'invalid')
    return {
      ok: false,
      code: 'INPUT_MAPPING_FAILED',
      message: `profile '${profile.id}' input: ${built.reason}`,
      ...logField(),
    };

  const base = {
    kind: 'result' as const,
    fleet: device.fleet,
    devEui: device.devEui,
    source: uplink.source,
    ...(cs ? { deduplicationId: cs.deduplicationId, fCnt: cs.fCnt } : {}),
    fPort: uplink.fPort,
    time: new Date(uplink.timeMs).toISOString(),
    decoded,
    ...(decodedResult.normalized ? { normalized: decodedResult.normalized } : {}),
    decodeWarnings: decodedResult.warnings,
    location: {
      ...location.location,
      method: location.method,
      ...(location.gatewayCount ? { gatewayCount: location.gatewayCount } : {}),
    },
  };
  const classField = cs ? { deviceClass: cs.deviceClass } : {};
  if (built.status === 'buffering') {
    const { haveReadings, needReadings, note } = built;
    return {
      ok: true,
      result: {
        ...base,
        inference: {
          status: 'buffering',
          model: profile.model,
          haveReadings,
          needReadings,
          ...(note ? { note } : {}),
        },
        downlink: {
          status: 'not-sent',
          reason: `window has ${haveReadings} of ${needReadings} readings`,
          ...classField,
        },
        ...logField(),
      },
      ...(evidence ? { evidence } : {}),
    };
  }

  const request: BridgeInferRequest = {
    model: profile.model,
    ...(profile.version ? { version: profile.version } : {}),
    location: location.location,
    ...('inputs' in built ? { inputs: built.inputs } : { input: built.input }),
    id: uplink.requestId,
  };
  let answer: InferAnswer;
  try {
    answer = await deps.infer(request, { devEui: device.devEui, fleet: device.fleet });
  } catch (err) {
    const why = isHexEdgeError(err) ? `${err.code}: ${err.message}` : (err as Error).message;
    return {
      ok: false,
      code: 'INFERENCE_FAILED',
      message: `model '${profile.model}': ${why}`,
      ...logField(),
    };
  }
  const summary = summarizeAnswer(answer, profile);
  const plan = await planDownlink({
    spec: profile.downlink,
    summary,
    encoders: resolved.encoders,
    recvTimeMs: uplink.timeMs,
    target: cs
      ? {
          kind: 'chirpstack',
          applicationId: cs.applicationId,
          devEui: device.devEui,
          deviceClass: cs.deviceClass,
          marshaling: cs.marshaling,
          dr: cs.dr,
          ...(cs.regionConfigId ? { regionConfigId: cs.regionConfigId } : {}),
        }
      : { kind: 'direct', devEui: device.devEui },
    newId: deps.newId,
  });
  codecLog.push(...(plan.logs ?? []));
  return {
    ok: true,
    result: {
      ...base,
      inference: {
        status: 'ok',
        requestId: request.id,
        model: profile.model,
        ...(answer.model_version ? { modelVersion: answer.model_version } : {}),
        ...summary,
        ...(answer.output !== undefined ? { output: answer.output } : {}),
        ...(answer.outputs ? { outputs: answer.outputs } : {}),
        node: answer.node,
        ...(answer.receipt !== undefined ? { receipt: answer.receipt } : {}),
      },
      downlink: plan.report,
      ...logField(),
    },
    ...(plan.message ? { downlink: plan.message } : {}),
    ...(evidence ? { evidence } : {}),
  };
}
