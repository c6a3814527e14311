import { DEMO_FLEET, DEMO_DEVICES, DeviceSimulator } from '@hexedge/firmware-bridge';
import { connectMqttPublisher } from '@hexedge/gateway/node';

/** How often the simulator's clock is advanced; at 60× one tick is one simulated minute. */
const SIM_TICK_MS = 1_000;

/**
 * `hexedge dev`'s demo LoRaWAN fleet: a device simulator playing ChirpStack, publishing its JSON
 * uplink events on the broker where ChirpStack's MQTT integration would, its clock running `simSpeed`
 * times faster than real time. The gateway's firmware bridge (its own builder's part) answers them.
 */
export async function startDevSimulator(options: {
  brokerUrl: string;
  /** A full-access broker login: the simulator publishes where ChirpStack's integration would. */
  login: { username: string; password: string };
  simSpeed: number;
  log: (message: string) => void;
}): Promise<{ stop: () => Promise<void>; line: string }> {
  const { log } = options;
  if (options.simSpeed <= 0)
    return {
      stop: async () => {},
      line: '\nhexedge dev simulator: off (--sim-speed 0); the bridge listens on application/+/device/+/event/+',
    };
  const sim = await connectMqttPublisher({
    url: options.brokerUrl,
    clientId: 'hexedge-dev-simulator',
    ...options.login,
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
  const devices = Object.keys(DEMO_DEVICES).length;
  return {
    stop: async () => {
      clearInterval(timer);
      await Promise.allSettled([...pending]);
      await sim.close().catch(() => {});
    },
    line: `\nhexedge dev simulator: ${devices} demo devices send ChirpStack uplinks at ${options.simSpeed}x real time; results on hexedge/v1/results/${DEMO_FLEET}/+, downlinks on application/${simulator.applicationId}/device/+/command/down`,
  };
}
