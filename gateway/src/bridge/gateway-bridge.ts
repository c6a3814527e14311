import {
  FirmwareBridge,
  type BridgeLogger,
  type CoverageEvidence,
  type DeviceRegistry,
  type InferAnswer,
  type InferOrigin,
  type PublishOptions,
} from '@hexedge/firmware-bridge';
import { HexEdgeError, isHexEdgeError, newTraceContext } from '@hexedge/protocol';
import { fleetEventFromMqtt } from '../events/bridge-events.ts';
import type { EventBus } from '../events/event-bus.ts';
import type { Caller } from '../infer/infer-ports.ts';
import type { InferService } from '../infer/infer-service.ts';
import type { ApiKeyRecord } from '../keys/key-store.ts';
import type { KeyLimiter } from '../keys/rate-limit.ts';

/**
 * The bridge's own identity towards the inference path: one caller for every fleet it serves, so its
 * requests (`fb-{deduplicationId}`) share one idempotency namespace and one rate budget.
 */
export const BRIDGE_CALLER: Caller = { id: 'firmware-bridge' };

/**
 * The bridge's budget. ChirpStack sends what the radio heard, in bursts (a gateway backhaul that comes
 * back delivers minutes of uplinks at once), so the burst is generous; a sustained flood beyond the
 * rate is refused per uplink (an INFERENCE_FAILED error event), never queued without bound.
 */
export const DEFAULT_BRIDGE_BUDGET = { ratePerSecond: 50, burst: 500, dailyQuota: 5_000_000 } as const;
/** A refusal that clears within this long is waited out once (smooths a burst) instead of failing the uplink. */
export const MAX_RATE_LIMIT_WAIT_MS = 2_000;

export interface GatewayBridgeOptions {
  registry: DeviceRegistry;
  service: Pick<InferService, 'infer'>;
  /** Sends one message to the broker (the ChirpStack ingress's MQTT client). */
  publish: (topic: string, payload: Uint8Array | string, options: PublishOptions) => Promise<void>;
  /** The dashboards' bus: every result and error the bridge publishes also goes here (`fleet.result`/`fleet.error`). */
  events?: EventBus;
  /** Meters the bridge like a key; without it the bridge is unmetered. */
  limiter?: KeyLimiter;
  budget?: { ratePerSecond: number; burst: number; dailyQuota: number };
  onCoverageEvidence?: (evidence: CoverageEvidence) => void;
  log?: (entry: Record<string, unknown>) => void;
  /** Injectable for tests. */
  clock?: { nowMs(): number };
  newId?: () => string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const encoder = new TextEncoder();

/** A FirmwareBridge whose inferences go through the gateway's InferService and whose output also feeds the event bus. */
export function createGatewayBridge(options: GatewayBridgeOptions): FirmwareBridge {
  const log = options.log ?? (() => {});
  const budget = options.budget ?? DEFAULT_BRIDGE_BUDGET;
  // The limiter meters key records; the bridge holds no key, so it is metered under its own record.
  const meter: ApiKeyRecord = {
    id: BRIDGE_CALLER.id,
    name: 'firmware bridge',
    hash: '',
    role: 'app',
    createdAtMs: 0,
    ...budget,
  };
  const take = async () => {
    if (!options.limiter) return;
    try {
      await options.limiter.take(meter);
    } catch (err) {
      const waitMs =
        isHexEdgeError(err) && err.code === 'RATE_LIMITED' ? err.details?.retryAfterMs : undefined;
      if (typeof waitMs !== 'number' || waitMs > MAX_RATE_LIMIT_WAIT_MS) throw err;
      await sleep(waitMs);
      await options.limiter.take(meter);
    }
  };

  const infer = async (request: unknown, origin?: InferOrigin): Promise<InferAnswer> => {
    await take();
    // One caller (one budget) for every device; answers (cache, traces) are per fleet, and the device
    // and its fleet ride along for rollouts' canaries. A LoRaWAN uplink carries no trace: each starts its own here.
    const caller: Caller = origin
      ? {
          ...BRIDGE_CALLER,
          tenant: `fleet:${origin.fleet}`,
          device: { id: origin.devEui, fleet: origin.fleet },
        }
      : BRIDGE_CALLER;
    const { response } = await options.service.infer(request, caller, {
      trace: newTraceContext(),
      channel: 'bridge',
    });
    return response as unknown as InferAnswer;
  };

  const publish = async (topic: string, payload: Uint8Array | string, how: PublishOptions) => {
    await options.publish(topic, payload, how);
    if (!options.events) return;
    try {
      const event = fleetEventFromMqtt(
        topic,
        typeof payload === 'string' ? encoder.encode(payload) : payload,
      );
      if (event) options.events.publish(event);
    } catch (err) {
      // The message went out; a dashboard that cannot show it must not fail the uplink.
      log({
        level: 'warn',
        msg: `bridge: not shown on the dashboard: ${err instanceof HexEdgeError ? err.message : String(err)}`,
        topic,
      });
    }
  };

  const logger: BridgeLogger = {
    info: (msg) => log({ level: 'info', msg: `bridge: ${msg}` }),
    warn: (msg) => log({ level: 'warn', msg: `bridge: ${msg}` }),
    error: (msg) => log({ level: 'error', msg: `bridge: ${msg}` }),
  };
  return new FirmwareBridge({
    registry: options.registry,
    infer,
    publish,
    logger,
    ...(options.onCoverageEvidence ? { onCoverageEvidence: options.onCoverageEvidence } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.newId ? { newId: options.newId } : {}),
  });
}
