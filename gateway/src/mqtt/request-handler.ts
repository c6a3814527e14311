import {
  bytesToBase64Url,
  ERROR_CODES,
  HexEdgeError,
  isHexEdgeError,
  MAX_INFER_BODY_BYTES,
  quoteValue,
  type LocationInput,
} from '@hexedge/protocol';
import type { InferService } from '../infer/infer-service.ts';
import { mqttHints } from './request-hints.ts';
import type { KeyLimiter } from '../keys/rate-limit.ts';
import type { MqttPrincipal } from './access.ts';
import { parseRequestTopic, responseTopic, responseTopicOwner } from './topics.ts';

/** A request as it arrived: topic, raw payload and, for MQTT v5, the response properties. */
export interface MqttRequest {
  topic: string;
  payload: Uint8Array;
  responseTopic?: string;
  correlationData?: Uint8Array;
  /** MQTT v5 user properties: `traceparent`, `hexedge-priority`, `hexedge-deadline-ms`, `hexedge-cache`. */
  userProperties?: Record<string, string | string[]>;
}

/** What to publish back: a JSON payload, with v5 properties that a v3.1.1 broker simply drops. */
export interface MqttAnswer {
  topic: string;
  payload: Uint8Array;
  correlationData?: Uint8Array;
  /** `hexedge-status: ok|error`, and for errors the code, HTTP status and MQTT reason code. */
  userProperties: Record<string, string>;
  ok: boolean;
}

/** A request the ingress will answer: who sent it, its id (for dedupe) and how to answer it. */
export interface RoutedRequest {
  clientId: string;
  requestId: string | undefined;
  answer: () => Promise<MqttAnswer>;
}

export interface MqttRequestHandlerOptions {
  service: InferService;
  /** The principal behind a client id (devices, key holders); undefined refuses the request. */
  principalOf: (clientId: string) => MqttPrincipal | undefined;
  /** Where a device is when its payload says nothing (the device registry will answer this). */
  locate?: (clientId: string) => Promise<LocationInput | undefined>;
  limiter?: KeyLimiter;
  log?: (entry: Record<string, unknown>) => void;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** Correlation data as a request id: printable ASCII as is, other bytes base64url with a `cd-` prefix. */
export function correlationToRequestId(data: Uint8Array): string {
  let text: string | undefined;
  try {
    text = decoder.decode(data);
  } catch {
    text = undefined;
  }
  const id = text !== undefined && /^[\x21-\x7e]{1,128}$/.test(text) ? text : `cd-${bytesToBase64Url(data)}`;
  if (id.length > 128)
    throw new HexEdgeError(
      'INVALID_REQUEST',
      `correlation data of ${data.length} bytes is too long to be a request id (at most 93 bytes)`,
    );
  return id;
}

/**
 * Turns one MQTT message into a routed request, or undefined when there is nowhere safe to answer
 * (not a request topic; a v5 request without a response topic under its sender's
 * `hexedge/v1/res/{clientId}/`). The sender is the topic's client id, which the broker vouches for.
 */
export function routeMqttRequest(
  request: MqttRequest,
  options: MqttRequestHandlerOptions,
): RoutedRequest | undefined {
  const log = options.log ?? (() => {});
  const parsed = parseRequestTopic(request.topic);
  if (!parsed) {
    log({ level: 'warn', msg: 'mqtt: not a request topic', topic: request.topic.slice(0, 256) });
    return undefined;
  }
  // The sender is the client id in the topic: the broker's ACL lets a client publish only under its own.
  const { clientId } = parsed;
  let replyTopic: string;
  let requestId: string | undefined;
  let idError: unknown;
  if (parsed.form === 'v311') {
    requestId = parsed.requestId;
    replyTopic = responseTopic(clientId, requestId);
  } else {
    // Answers go only to the sender's own response tree: a Response Topic naming another client is
    // dropped, or one device could have its answers (and duplicate ids) land on another's.
    const owner = request.responseTopic !== undefined ? responseTopicOwner(request.responseTopic) : undefined;
    if (owner !== clientId) {
      log({
        level: 'warn',
        msg: `mqtt: v5 request from ${clientId} without a response topic under hexedge/v1/res/${clientId}/; dropped`,
        responseTopic: request.responseTopic?.slice(0, 256),
      });
      return undefined;
    }
    replyTopic = request.responseTopic!;
    try {
      requestId = request.correlationData?.length
        ? correlationToRequestId(request.correlationData)
        : undefined;
    } catch (err) {
      idError = err;
    }
  }
  const reply = (payload: unknown, ok: boolean, userProperties: Record<string, string>): MqttAnswer => ({
    topic: replyTopic,
    payload: encoder.encode(JSON.stringify(payload)),
    ...(request.correlationData?.length ? { correlationData: request.correlationData } : {}),
    userProperties: { 'hexedge-status': ok ? 'ok' : 'error', ...userProperties },
    ok,
  });
  const answer = async (): Promise<MqttAnswer> => {
    try {
      if (idError) throw idError;
      const model = parsed.form === 'v5' ? parsed.model : undefined;
      const principal = options.principalOf(clientId);
      if (!principal)
        throw new HexEdgeError(
          'UNAUTHORIZED',
          `MQTT client '${clientId}' is not a known device or API key holder`,
        );
      const body = await requestBody({ request, clientId, requestId, model, options });
      if (principal.key && options.limiter) await options.limiter.take(principal.key);
      const hints = mqttHints(request.userProperties);
      const caller = {
        id: `mqtt:${clientId}`,
        tenant:
          principal.kind === 'device' ? `device:${principal.id}` : `key:${principal.key?.id ?? principal.id}`,
        device: { id: clientId },
        ...(principal.models ? { models: principal.models } : {}),
        ...(principal.region ? { region: principal.region } : {}),
      };
      const { response, traceparent, cache } = await options.service.infer(body, caller, hints);
      return reply(response, true, {
        ...(traceparent ? { traceparent } : {}),
        ...(cache ? { 'hexedge-cache': cache } : {}),
      });
    } catch (err) {
      const e = isHexEdgeError(err) ? err : new HexEdgeError('INTERNAL', 'internal error');
      if (!isHexEdgeError(err))
        log({ level: 'error', msg: 'mqtt: unexpected error', clientId, error: String(err) });
      const { httpStatus, mqttReason } = ERROR_CODES[e.code];
      const error = { ...e.toBody().error, ...(requestId !== undefined ? { requestId } : {}) };
      return reply({ error }, false, {
        'hexedge-error-code': e.code,
        'hexedge-http-status': String(httpStatus),
        'hexedge-reason-code': `0x${mqttReason.toString(16)}`,
        'hexedge-reason-string': e.message.slice(0, 256),
      });
    }
  };
  return { clientId, requestId, answer };
}

/** The `/v1/infer` body: size-bounded JSON, model from the v5 topic, id from the topic or correlation data. */
async function requestBody(a: {
  request: MqttRequest;
  clientId: string;
  requestId: string | undefined;
  model: string | undefined;
  options: MqttRequestHandlerOptions;
}): Promise<unknown> {
  const { request, requestId, model } = a;
  if (request.payload.byteLength > MAX_INFER_BODY_BYTES) {
    throw new HexEdgeError(
      'PAYLOAD_TOO_LARGE',
      `payload of ${request.payload.byteLength} bytes exceeds ${MAX_INFER_BODY_BYTES} bytes`,
    );
  }
  let body: unknown;
  try {
    body = JSON.parse(decoder.decode(request.payload));
  } catch {
    throw new HexEdgeError('INVALID_JSON', 'payload is not valid UTF-8 JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new HexEdgeError('INVALID_REQUEST', 'payload must be a JSON object (the /v1/infer body)');
  const fields = body as Record<string, unknown>;
  if (model !== undefined) {
    if (fields.model !== undefined && fields.model !== model) {
      throw new HexEdgeError(
        'INVALID_REQUEST',
        `payload model ${quoteValue(fields.model)} disagrees with the topic's model '${model}'`,
      );
    }
    fields.model = model;
  }
  if (requestId !== undefined) {
    if (fields.id !== undefined && fields.id !== requestId) {
      throw new HexEdgeError(
        'INVALID_REQUEST',
        `payload id ${quoteValue(fields.id)} disagrees with the request id '${requestId}'`,
      );
    }
    fields.id = requestId;
  }
  if (fields.location === undefined && a.options.locate) {
    const location = await a.options.locate(a.clientId);
    if (location) fields.location = location;
  }
  return fields;
}
