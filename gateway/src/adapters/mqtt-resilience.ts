import type { MqttClient } from 'mqtt';

const MIN_RECONNECT_MS = 500;
const MAX_RECONNECT_MS = 30_000;

/**
 * Reconnects with capped exponential backoff (0.5 s, 1 s, 2 s … 30 s) instead of mqtt.js's fixed
 * period, so a broker that is down is not hammered by every gateway at once; reset on success.
 */
export function reconnectWithBackoff(client: MqttClient): void {
  client.options.reconnectPeriod = MIN_RECONNECT_MS;
  client.on('reconnect', () => {
    client.options.reconnectPeriod = Math.min(MAX_RECONNECT_MS, (client.options.reconnectPeriod ?? MIN_RECONNECT_MS) * 2);
  });
  client.on('connect', () => {
    client.options.reconnectPeriod = MIN_RECONNECT_MS;
  });
}

/**
 * Subscribes again after every reconnect. mqtt.js resubscribes only when the broker reports no
 * session, but Mosquitto with persistence restores a session without its shared subscriptions — the
 * ingress would then silently receive nothing. Subscribing twice to the same filter is harmless.
 */
export function resubscribeOnReconnect(options: { client: MqttClient; filters: readonly string[]; log: (entry: Record<string, unknown>) => void }): void {
  let first = true;
  options.client.on('connect', () => {
    if (first) {
      first = false;
      return;
    }
    options.client.subscribeAsync([...options.filters], { qos: 1 }).catch((err: Error) => options.log({ level: 'warn', msg: `mqtt resubscribe failed: ${err.message}` }));
  });
}
