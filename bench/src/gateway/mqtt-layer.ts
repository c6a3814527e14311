/**
 * The gateway's MQTT layer on its own, for a diagnostic row: a second embedded broker in the front
 * process, started as `buildGateway` starts its own (`startEmbeddedBroker` with `BrokerAccess` over a
 * `KeyRing` holding the bench's admin key: the same login and publish/subscribe hooks), and the
 * gateway's real MQTT ingress on it (`startMqttIngress`, reached in process through the broker's
 * `connect` as `buildGateway` does, v3.1.1, unshared, with the app's default `RateLimiter` metering the
 * key and the ingress's own dedupe of request ids). Only the infer service is a stub: it answers every
 * request with a canned answer (the gateway's real HTTP answer to the same request, fetched once by the
 * suite), so no placement, forward, node or receipt check runs. The echo responder (mqtt-front.ts) runs
 * on this broker too, as the peer in the same rounds. Whatever the layer costs beyond the echo is the
 * broker's ACL hooks, the ingress, JSON parse/stringify and dedupe: the MQTT layer, not the infer path.
 */
import { BrokerAccess, KeyRing, MemoryKeyStore, RateLimiter, type InferService } from '@hexedge/gateway';
import { startEmbeddedBroker, startMqttIngress, type MqttIngress } from '@hexedge/gateway/node';
import type { InferResponse } from '@hexedge/protocol';
import { startMqttFront, type MqttFront } from './mqtt-front.ts';

export interface MqttLayer {
  brokerUrl: string;
  close(): Promise<void>;
}

/**
 * `password`: the admin key devices log in with. `answer`: the canned InferResponse (JSON), answered
 * under each request's own id.
 */
export async function startMqttLayer(options: { password: string; answer: string }): Promise<MqttLayer> {
  const canned = JSON.parse(options.answer) as InferResponse;
  const keys = new KeyRing({ store: new MemoryKeyStore() });
  await keys.adopt(options.password, { name: 'bench admin', role: 'admin', slot: 'bench-admin' });
  const access = new BrokerAccess({ keys });
  const broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0, access });
  // The request handler calls nothing of InferService but `infer`; the stub has that method's signature.
  const service: Pick<InferService, 'infer'> = {
    infer: async (body) => ({
      response: { ...canned, id: (body as { id: string }).id },
      replayed: false,
    }),
  };
  let ingress: MqttIngress | undefined;
  let echo: MqttFront | undefined;
  try {
    ingress = await startMqttIngress({
      url: broker.url,
      connectStream: broker.connect,
      username: 'hexedge-gateway',
      password: options.password,
      protocolVersion: 4,
      clientId: 'hexedge-bench-layer',
      shareGroup: false,
      service: service as InferService,
      limiter: new RateLimiter(),
      principalOf: (clientId) => access.principalOf(clientId),
    });
    echo = await startMqttFront({ brokerUrl: broker.url, password: options.password });
  } catch (err) {
    await ingress?.close().catch(() => {});
    await broker.close();
    throw err;
  }
  return {
    brokerUrl: broker.url,
    async close() {
      await echo?.close().catch(() => {});
      await ingress?.close().catch(() => {});
      await broker.close();
    },
  };
}
