import { afterEach, describe, expect, it } from 'vitest';
import { startEmbeddedBroker, type EmbeddedBroker } from '../src/node/index.ts';
import { gatewayParts, startTestIngress } from './mqtt-harness.ts';

// The embedded broker's in-process connection (what a gateway hosting the broker uses for its own
// ingress): the transport changes, the broker's login and access hooks do not.
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of cleanup.splice(0).reverse()) await stop();
});

async function brokerWithAccess(): Promise<{
  broker: EmbeddedBroker;
  parts: Awaited<ReturnType<typeof gatewayParts>>;
}> {
  const parts = await gatewayParts();
  const broker = await startEmbeddedBroker({ port: 0, host: '127.0.0.1', access: parts.access });
  cleanup.push(() => broker.close());
  return { broker, parts };
}

describe('embedded broker, in-process connection', () => {
  it('still logs in through the access hooks: a wrong password is refused', async () => {
    const { broker, parts } = await brokerWithAccess();
    const refused = startTestIngress(parts, {
      url: broker.url,
      connectStream: () => broker.connect(),
      clientId: 'gw-in-process',
      password: 'not-a-key',
    });
    await expect(refused).rejects.toThrow(/Bad username or password|Not authorized/i);
  });

  it('closes with the broker: the ingress reports the connection down', async () => {
    const { broker, parts } = await brokerWithAccess();
    const ingress = await startTestIngress(parts, {
      url: broker.url,
      connectStream: () => broker.connect(),
      clientId: 'gw-in-process',
    });
    cleanup.unshift(() => ingress.close());
    expect(ingress.connected).toBe(true);
    await broker.close();
    await expect.poll(() => ingress.connected).toBe(false);
  });

  it('closes a connection that never sent CONNECT when the broker closes', async () => {
    const { broker } = await brokerWithAccess();
    const end = broker.connect();
    const closed = new Promise<void>((resolve) => end.once('close', () => resolve()));
    await broker.close();
    await closed;
    expect(end.destroyed).toBe(true);
  });
});
