import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import type { InferRequest, InferResponse } from './api-types.ts';
import { sleep } from './deadline.ts';
import { HexEdgeApiError } from './errors.ts';
import { randomId } from './ids.ts';
import { backoffMs, DEFAULT_RETRY, type RetryPolicy } from './retry.ts';

/**
 * MQTT v5 request/response for devices (`@hexedge/client/mqtt`): publish the `/v1/infer` body to
 * `hexedge/v1/infer/{clientId}/{model}` with a Response Topic under the device's own
 * `hexedge/v1/res/{clientId}/` and Correlation Data, and await the answer the gateway publishes there
 * with the same Correlation Data. The correlation id is the request id (the gateway answers a repeat
 * once, and the receipt names it), so QoS 1's redelivery never runs a model twice. The broker binds
 * the client id to the device's login, so the client id is also the username by default.
 */

export const inferTopic = (clientId: string, model: string) => `hexedge/v1/infer/${clientId}/${model}`;
export const responseTopic = (clientId: string) => `hexedge/v1/res/${clientId}/answers`;

export interface MqttInferOptions {
  /** `mqtt://host:1883`, `mqtts://…`, or `ws(s)://…` in a browser. */
  url: string;
  /** The device id: MQTT client id, and username unless `username` says otherwise. */
  clientId: string;
  password: string;
  username?: string;
  /** Default per-request budget, ms (30 s). */
  timeoutMs?: number;
  /** More mqtt.js options (TLS, keepalive…); protocol version 5 is always used. */
  mqtt?: IClientOptions;
}

/** Default per-request budget: a cold model load on a node plus a slow run (the gateway's own bound is 60 s). */
export const DEFAULT_MQTT_TIMEOUT_MS = 30_000;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

interface Pending {
  resolve: (answer: InferResponse) => void;
  reject: (err: unknown) => void;
}

export class MqttInferClient {
  readonly #client: MqttClient;
  readonly #clientId: string;
  readonly #timeoutMs: number;
  readonly #pending = new Map<string, Pending>();

  private constructor(client: MqttClient, options: MqttInferOptions) {
    this.#client = client;
    this.#clientId = options.clientId;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_MQTT_TIMEOUT_MS;
    client.on('message', (_topic, payload, packet) => this.#answer(payload, packet));
  }

  /** Connects (MQTT v5) and subscribes to the device's response topic before any request goes out. */
  static async connect(options: MqttInferOptions): Promise<MqttInferClient> {
    const client = await mqtt.connectAsync(options.url, {
      reconnectPeriod: 1_000,
      connectTimeout: 10_000,
      ...options.mqtt,
      protocolVersion: 5,
      clientId: options.clientId,
      username: options.username ?? options.clientId,
      password: options.password,
    });
    const self = new MqttInferClient(client, options);
    const granted = await client.subscribeAsync(responseTopic(options.clientId), { qos: 1 });
    if (granted.some((g) => g.qos > 2)) {
      await client.endAsync();
      throw new HexEdgeApiError({
        code: 'FORBIDDEN',
        message: `the broker refused ${options.clientId}'s subscription to ${responseTopic(options.clientId)} (reason 0x${granted[0]!.qos.toString(16)})`,
      });
    }
    return self;
  }

  /**
   * Sends one request and resolves with the answer, or rejects with the gateway's error (its code and
   * HTTP status from the answer's user properties), or DEADLINE_EXCEEDED after `timeoutMs`. A 429 or
   * 503 (refused before any model ran) is tried again after the wait the error names
   * (`details.retryAfterMs`) or an exponential backoff, while the budget lasts, under a new correlation
   * id (`<id>-2`, `<id>-3`…): the gateway answers each correlation id once, errors included, so the
   * same id would go unanswered. A request that timed out is never sent again (it may have run).
   */
  async infer(
    request: Omit<InferRequest, 'model'> & { model: string },
    options: {
      timeoutMs?: number;
      signal?: AbortSignal;
      correlationId?: string;
      retry?: Partial<RetryPolicy> | false;
    } = {},
  ): Promise<InferResponse> {
    const correlationId = options.correlationId ?? request.id ?? randomId();
    const { model, ...payload } = request;
    const timeoutMs = options.timeoutMs ?? this.#timeoutMs;
    const deadlineAtMs = Date.now() + timeoutMs;
    const policy = options.retry === false ? false : { ...DEFAULT_RETRY, ...options.retry };
    for (let attempt = 1; ; attempt++) {
      const id = attempt === 1 ? correlationId : `${correlationId}-${attempt}`;
      const message = JSON.stringify({ ...payload, id });
      try {
        return await this.#once({
          model,
          message,
          correlationId: id,
          timeoutMs: deadlineAtMs - Date.now(),
          budgetMs: timeoutMs,
          signal: options.signal,
        });
      } catch (err) {
        if (
          !policy ||
          !(err instanceof HexEdgeApiError) ||
          err.status === undefined ||
          !policy.retryOn.includes(err.status) ||
          attempt >= policy.maxAttempts
        )
          throw err;
        const delayMs = backoffMs({
          attempt,
          policy,
          ...(err.retryAfterMs !== undefined ? { retryAfterMs: err.retryAfterMs } : {}),
        });
        if (Date.now() + delayMs >= deadlineAtMs) throw err;
        await sleep(delayMs, options.signal);
      }
    }
  }

  #once(a: {
    model: string;
    message: string;
    correlationId: string;
    timeoutMs: number;
    budgetMs: number;
    signal: AbortSignal | undefined;
  }): Promise<InferResponse> {
    const { correlationId, signal } = a;
    const answer = new Promise<InferResponse>((resolve, reject) => {
      const timer = setTimeout(
        () => {
          this.#pending.delete(correlationId);
          reject(
            new HexEdgeApiError({
              code: 'DEADLINE_EXCEEDED',
              message: `no answer to ${correlationId} within ${a.budgetMs} ms`,
            }),
          );
        },
        Math.max(0, a.timeoutMs),
      );
      const onAbort = () => {
        clearTimeout(timer);
        this.#pending.delete(correlationId);
        reject(signal!.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const settle = () => (clearTimeout(timer), signal?.removeEventListener('abort', onAbort));
      this.#pending.set(correlationId, {
        resolve: (value) => (settle(), resolve(value)),
        reject: (err) => (settle(), reject(err)),
      });
    });
    const publish = async () => {
      signal?.throwIfAborted();
      await this.#client.publishAsync(inferTopic(this.#clientId, a.model), a.message, {
        qos: 1,
        properties: {
          responseTopic: responseTopic(this.#clientId),
          // mqtt.js writes any byte array; typed as Buffer, which a browser does not have.
          correlationData: encoder.encode(correlationId) as never,
        },
      });
    };
    publish().catch((err: unknown) => this.#pending.get(correlationId)?.reject(err));
    return answer;
  }

  /** Requests still waiting for an answer. */
  get inFlight(): number {
    return this.#pending.size;
  }

  async close(): Promise<void> {
    for (const p of this.#pending.values())
      p.reject(new HexEdgeApiError({ code: 'NETWORK', message: 'the MQTT client was closed' }));
    this.#pending.clear();
    await this.#client.endAsync();
  }

  #answer(payload: Uint8Array, packet: IPublishPacket): void {
    const data = packet.properties?.correlationData;
    if (!data) return;
    const pending = this.#pending.get(decoder.decode(data));
    if (!pending) return;
    this.#pending.delete(decoder.decode(data));
    let body: unknown;
    try {
      body = JSON.parse(decoder.decode(payload));
    } catch {
      return pending.reject(new HexEdgeApiError({ code: 'INVALID_JSON', message: 'the answer is not JSON' }));
    }
    const props = (packet.properties?.userProperties ?? {}) as Record<string, string | string[]>;
    const prop = (name: string) => [props[name]].flat()[0];
    if (prop('hexedge-status') !== 'error') return pending.resolve(body as InferResponse);
    const error = (
      body as {
        error?: { code?: string; message?: string; requestId?: string; details?: { retryAfterMs?: unknown } };
      }
    ).error;
    const status = Number(prop('hexedge-http-status'));
    const retryAfterMs = error?.details?.retryAfterMs;
    pending.reject(
      new HexEdgeApiError({
        code: error?.code ?? prop('hexedge-error-code') ?? 'INTERNAL',
        message: error?.message ?? prop('hexedge-reason-string') ?? 'the gateway answered with an error',
        ...(Number.isFinite(status) ? { status } : {}),
        ...(error?.requestId ? { requestId: error.requestId } : {}),
        ...(typeof retryAfterMs === 'number' ? { retryAfterMs } : {}),
      }),
    );
  }
}
