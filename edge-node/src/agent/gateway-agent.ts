import {
  signBody,
  type Hardware,
  type LatLng,
  type NodeAck,
  type NodeKeyPair,
  type NodeModel,
} from '@hexedge/protocol';
import { heartbeatWaitMs, retryWaitMs } from './jitter.ts';

export interface GatewayAgentOptions {
  gatewayUrl: string;
  keys: NodeKeyPair;
  /** The URL the gateway and peers reach this node's OIP server on. */
  publicUrl: string;
  location: LatLng;
  hardware: Hardware;
  models: () => NodeModel[];
  draining?: () => boolean;
  /** Every answer from the gateway (its heartbeat interval and the planner's desired models). */
  onAck?: (ack: NodeAck) => void;
  log: (message: string) => void;
  now?: () => number;
  /** Spreads retries and heartbeats (jitter.ts); Math.random when absent. */
  random?: () => number;
}

/** Per-call timeout: a gateway that does not answer is treated like one that is down. */
const CALL_TIMEOUT_MS = 5_000;

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
  });

class GatewayAnswer extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

/**
 * Keeps a node registered with its gateway: a signed registration, then signed heartbeats whose
 * sequence numbers never go backwards, even across restarts (they start from the wall clock in ms, so
 * no counter needs persisting). An unreachable gateway is retried with capped exponential backoff while
 * the node keeps serving; a gateway that forgot the node (404) gets a fresh registration.
 */
export class GatewayAgent {
  readonly #o: GatewayAgentOptions;
  readonly #now: () => number;
  #seq = 0;
  registered = false;

  constructor(options: GatewayAgentOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
  }

  async #post(path: string, body: unknown): Promise<NodeAck> {
    const res = await fetch(new URL(path, this.#o.gatewayUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
    });
    const text = await res.text();
    if (!res.ok) throw new GatewayAnswer(res.status, `${path} answered ${res.status}: ${text.slice(0, 300)}`);
    return JSON.parse(text) as NodeAck;
  }

  async register(): Promise<NodeAck> {
    const o = this.#o;
    const signed = await signBody(
      'registration',
      {
        nodeId: o.keys.nodeId,
        issuedAtMs: this.#now(),
        url: o.publicUrl,
        location: o.location,
        hardware: o.hardware,
        models: o.models(),
      },
      o.keys.privateKey,
    );
    const ack = await this.#post('/v1/nodes/register', signed);
    this.registered = true;
    return ack;
  }

  async heartbeat(): Promise<NodeAck> {
    const o = this.#o;
    this.#seq = Math.max(this.#seq + 1, this.#now());
    const body = {
      nodeId: o.keys.nodeId,
      seq: this.#seq,
      issuedAtMs: this.#now(),
      models: o.models(),
      draining: o.draining?.() ?? false,
    };
    return this.#post('/v1/nodes/heartbeat', await signBody('heartbeat', body, o.keys.privateKey));
  }

  /** Runs until the signal aborts. Retries and heartbeats are spread at random (jitter.ts). */
  async run(signal: AbortSignal): Promise<void> {
    const random = this.#o.random ?? Math.random;
    let failures = 0;
    while (!signal.aborted) {
      try {
        const wasRegistered = this.registered;
        const ack = wasRegistered ? await this.heartbeat() : await this.register();
        if (!wasRegistered)
          this.#o.log(`registered with gateway ${this.#o.gatewayUrl} as ${this.#o.keys.nodeId}`);
        this.#o.onAck?.(ack);
        failures = 0;
        await sleep(heartbeatWaitMs(ack.heartbeatIntervalMs, random), signal);
      } catch (err) {
        if (signal.aborted) break;
        if (err instanceof GatewayAnswer && err.status === 404) {
          this.registered = false;
          continue;
        }
        const retryMs = Math.round(retryWaitMs(failures++, random));
        this.#o.log(
          `gateway ${this.#o.gatewayUrl} unreachable or refused (${(err as Error).message}); retrying in ${retryMs} ms`,
        );
        this.registered = false;
        await sleep(retryMs, signal);
      }
    }
  }
}
