import mqtt from 'mqtt';

export interface MqttPublisher {
  publish(
    topic: string,
    payload: Uint8Array | string,
    options?: { qos?: 0 | 1; retain?: boolean },
  ): Promise<void>;
  close(): Promise<void>;
}

/**
 * A plain publishing client (TCP no-delay, reconnecting), for composition roots that must not depend
 * on mqtt.js themselves: `hexedge dev`'s device simulator plays ChirpStack through one.
 */
export async function connectMqttPublisher(options: {
  url: string;
  clientId: string;
  username?: string;
  password?: string;
  protocolVersion?: 4 | 5;
}): Promise<MqttPublisher> {
  const client = await mqtt.connectAsync(options.url, {
    clientId: options.clientId,
    ...(options.protocolVersion ? { protocolVersion: options.protocolVersion } : {}),
    ...(options.username !== undefined ? { username: options.username } : {}),
    ...(options.password !== undefined ? { password: options.password } : {}),
    reconnectPeriod: 1_000,
    connectTimeout: 10_000,
  });
  const noDelay = () => (client.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
  noDelay();
  client.on('connect', noDelay);
  return {
    async publish(topic, payload, how = {}) {
      const body =
        typeof payload === 'string'
          ? payload
          : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
      await client.publishAsync(topic, body, { qos: how.qos ?? 1, retain: how.retain ?? false });
    },
    close: () => client.endAsync(),
  };
}
