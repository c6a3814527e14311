import { DeviceRegistry, DeviceSimulator, demoFleetFile, DEMO_FLEET } from '@hexedge/firmware-bridge';
import { SqliteDeviceStore } from '@hexedge/firmware-bridge/node';
import type { EventBus, InferService, RateLimiter } from '@hexedge/gateway';
import { connectMqttPublisher, startChirpstackIngress } from '@hexedge/gateway/node';
import { existsSync } from 'node:fs';
import path from 'node:path';

/** How often the simulator's clock is advanced; at 60× one tick is one simulated minute. */
const SIM_TICK_MS = 1_000;

/** The bridge's device registry in `{dataDir}/fleet.sqlite`, seeded with the demo fleet when the file is new. */
export function openDevFleet(
  dataDir: string,
  log: (message: string) => void,
): { registry: DeviceRegistry; close: () => Promise<void> } {
  const file = path.join(dataDir, 'fleet.sqlite');
  const fresh = !existsSync(file);
  const store = new SqliteDeviceStore({ path: file });
  // A service's registry: JS codecs are evaluated (in their worker threads) when loaded, not at the first uplink.
  const registry = new DeviceRegistry({ store, warmCodecs: true });
  if (fresh) {
    const loaded = registry.loadFleet(demoFleetFile());
    log(
      `device registry ${file}: loaded the demo fleet (${loaded.profiles} profiles, ${loaded.devices} devices)`,
    );
  }
  return {
    registry,
    close: async () => {
      await registry.close();
      store.close();
    },
  };
}

/**
 * The LoRaWAN loop of `hexedge dev`: the firmware bridge on the embedded broker (ChirpStack topics,
 * one consumer, unshared: aedes has no `$share`) and the device simulator publishing ChirpStack JSON
 * uplinks on a timer, its clock running `simSpeed` times faster than real time. `stop` stops the
 * simulator first, then the bridge (after the uplinks in progress).
 */
export async function startDevLorawan(options: {
  brokerUrl: string;
  apiKey: string;
  registry: DeviceRegistry;
  service: InferService;
  limiter: RateLimiter;
  events: EventBus;
  simSpeed: number;
  log: (message: string) => void;
}): Promise<{ stop: () => Promise<void>; line: string }> {
  const { log } = options;
  // The admin key is the integration user's login: full access, ChirpStack's topics included.
  const ingress = await startChirpstackIngress({
    url: options.brokerUrl,
    clientId: 'hexedge-dev-bridge',
    username: 'hexedge-bridge',
    password: options.apiKey,
    protocolVersion: 4,
    shareGroup: false,
    registry: options.registry,
    service: options.service,
    limiter: options.limiter,
    events: options.events,
    log: (entry) => entry.level !== 'info' && log(`bridge: ${JSON.stringify(entry)}`),
  });
  if (options.simSpeed <= 0)
    return {
      stop: () => ingress.close(),
      line: '\nhexedge dev simulator: off (--sim-speed 0); the bridge listens on application/+/device/+/event/+',
    };

  // The simulator plays ChirpStack: its own client, publishing where ChirpStack's MQTT integration would.
  const sim = await connectMqttPublisher({
    url: options.brokerUrl,
    clientId: 'hexedge-dev-simulator',
    username: 'hexedge-simulator',
    password: options.apiKey,
  }).catch(async (err: unknown) => {
    await ingress.close();
    throw err;
  });
  const wallStartMs = Date.now();
  const simulator = new DeviceSimulator({ startMs: wallStartMs });
  const pending = new Set<Promise<unknown>>();
  const tick = () => {
    const simNowMs = wallStartMs + (Date.now() - wallStartMs) * options.simSpeed;
    for (const m of simulator.advanceTo(simNowMs)) {
      const sent = sim
        .publish(m.topic, m.payload, { qos: 1 })
        .catch((err: Error) => log(`simulator: ${err.message}`));
      pending.add(sent);
      void sent.finally(() => pending.delete(sent));
    }
  };
  tick();
  const timer = setInterval(tick, SIM_TICK_MS);
  const devices = options.registry.listDevices({ fleet: DEMO_FLEET }).length;
  return {
    stop: async () => {
      clearInterval(timer);
      await Promise.allSettled([...pending]);
      await sim.close().catch(() => {});
      await ingress.close();
    },
    line: `\nhexedge dev simulator: ${devices} demo devices send ChirpStack uplinks at ${options.simSpeed}x real time; results on hexedge/v1/results/${DEMO_FLEET}/+, downlinks on application/${simulator.applicationId}/device/+/command/down`,
  };
}
