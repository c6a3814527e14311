import type { MqttClient } from 'mqtt';

/**
 * The first retry waits a second. After a broker restart (without broker persistence) devices must
 * subscribe to their response topics again; an ingress that came back first would flush answers it
 * held to a broker with no subscriber for them yet, and the broker would drop them.
 */
const MIN_RECONNECT_MS = 1_000;
const MAX_RECONNECT_MS = 30_000;

/**
 * Reconnects with capped exponential backoff (1 s, 2 s, 4 s … 30 s) instead of mqtt.js's fixed
 * period, so a broker that is down is not hammered by every gateway at once; reset on success.
 */
export function reconnectWithBackoff(client: MqttClient): void {
  client.options.reconnectPeriod = MIN_RECONNECT_MS;
  client.on('reconnect', () => {
    client.options.reconnectPeriod = Math.min(
      MAX_RECONNECT_MS,
      (client.options.reconnectPeriod ?? MIN_RECONNECT_MS) * 2,
    );
  });
  client.on('connect', () => {
    client.options.reconnectPeriod = MIN_RECONNECT_MS;
  });
}

/**
 * Subscribes again after every reconnect. mqtt.js resubscribes only when the broker reports no
 * session, but Mosquitto with persistence restores a session without its shared subscriptions — the
 * ingress would then silently receive nothing. Subscribing twice to the same filter is harmless.
 * Call it after the first subscription.
 */
export function resubscribeOnReconnect(options: {
  client: MqttClient;
  filters: readonly string[];
  log: (entry: Record<string, unknown>) => void;
}): void {
  // Called once the first subscription is in place, so every later 'connect' is a reconnect.
  options.client.on('connect', () => {
    options.client
      .subscribeAsync([...options.filters], { qos: 1 })
      .catch((err: Error) => options.log({ level: 'warn', msg: `mqtt resubscribe failed: ${err.message}` }));
  });
}
