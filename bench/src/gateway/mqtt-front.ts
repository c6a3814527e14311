/**
 * The MQTT side of the front process: the embedded broker `hexedge dev` runs (aedes, MQTT 3.1.1, open:
 * no access hooks), the gateway's MQTT ingress on it (v3.1.1 `req/{clientId}/{requestId}` form, no
 * shared group, the same InferService as HTTP, every client an admin principal so no quota applies),
 * and the peer: a bare echo responder on the same broker that answers `bench/echo/req/{clientId}/{id}`
 * on `bench/echo/res/{clientId}/{id}` with a canned payload of about the gateway answer's size, with
 * the same QoS 1 and TCP no-delay, and nothing else.
 */
import type { InferService } from '@hexedge/gateway';
import { startEmbeddedBroker, startMqttIngress } from '@hexedge/gateway/node';
import mqtt from 'mqtt';

export const ECHO_REQUEST_FILTER = 'bench/echo/req/+/+';
export const echoRequestTopic = (clientId: string, id: string) => `bench/echo/req/${clientId}/${id}`;
export const echoResponseTopic = (clientId: string, id: string) => `bench/echo/res/${clientId}/${id}`;
/** About the size of a comfort-index answer from the gateway (outputs, node, timing, receipt). */
const ECHO_ANSWER = Buffer.from(JSON.stringify({ echo: true, pad: 'x'.repeat(1100) }));

export interface MqttFront {
  brokerUrl: string;
  close(): Promise<void>;
}

export async function startMqttFront(options: { service: InferService }): Promise<MqttFront> {
  const broker = await startEmbeddedBroker({ port: 0, host: '127.0.0.1' });
  const ingress = await startMqttIngress({
    url: broker.url,
    clientId: 'bench-gateway',
    protocolVersion: 4,
    shareGroup: false,
    service: options.service,
    principalOf: (clientId) => ({ kind: 'admin', clientId, id: 'bench-admin' }),
  });
  const echo = await mqtt.connectAsync(broker.url, { clientId: 'bench-echo', protocolVersion: 4, reconnectPeriod: 0 });
  (echo.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
  echo.on('message', (topic) => {
    const [, , , clientId, id] = topic.split('/');
    echo.publish(echoResponseTopic(clientId!, id!), ECHO_ANSWER, { qos: 1 });
  });
  await echo.subscribeAsync(ECHO_REQUEST_FILTER, { qos: 1 });
  return {
    brokerUrl: broker.url,
    async close() {
      await echo.endAsync(true);
      await ingress.close();
      await broker.close();
    },
  };
}
