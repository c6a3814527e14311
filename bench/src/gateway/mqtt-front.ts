/**
 * The MQTT peer in the front process: the gateway (buildGateway) hosts the embedded broker `hexedge dev`
 * runs (aedes, MQTT 3.1.1, its access hooks: the admin key logs in with full access) and its MQTT
 * ingress on it (v3.1.1 `req/{clientId}/{requestId}` form, no shared group, the same InferService as
 * HTTP). The peer is a bare echo responder on the same broker that answers
 * `bench/echo/req/{clientId}/{id}` on `bench/echo/res/{clientId}/{id}` with a canned payload of about
 * the gateway answer's size, with the same QoS 1 and TCP no-delay, and nothing else.
 */
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

/** `password`: the gateway's admin key (the embedded broker takes API keys as passwords). */
export async function startMqttFront(options: { brokerUrl: string; password: string }): Promise<MqttFront> {
  const echo = await mqtt.connectAsync(options.brokerUrl, {
    clientId: 'bench-echo',
    protocolVersion: 4,
    reconnectPeriod: 0,
    username: 'bench',
    password: options.password,
  });
  (echo.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
  echo.on('message', (topic) => {
    const [, , , clientId, id] = topic.split('/');
    echo.publish(echoResponseTopic(clientId!, id!), ECHO_ANSWER, { qos: 1 });
  });
  await echo.subscribeAsync(ECHO_REQUEST_FILTER, { qos: 1 });
  return {
    brokerUrl: options.brokerUrl,
    async close() {
      await echo.endAsync(true);
    },
  };
}
