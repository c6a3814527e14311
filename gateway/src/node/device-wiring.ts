// The gateway's devices on Node: the firmware bridge's device registry in SQLite (seeded with the demo
// fleet when configured and empty), device MQTT credentials in a file, and the broker access rules
// built from both and the API keys.
import { demoFleetFile, DeviceRegistry } from '@hexedge/firmware-bridge';
import { SqliteDeviceStore } from '@hexedge/firmware-bridge/node';
import type { Lifecycle } from '@hexedge/protocol';
import path from 'node:path';
import { FileDeviceStore } from '../adapters/device-file-store.ts';
import type { GatewayConfig } from '../config.ts';
import type { KeyRing } from '../keys/key-ring.ts';
import type { ApiKeyRecord } from '../keys/key-store.ts';
import { BrokerAccess } from '../mqtt/access.ts';
import { DeviceCredentials } from '../mqtt/device-credentials.ts';

/** Opens the device registry (closed at shutdown) and the broker's access rules. */
export function openDevices(o: {
  config: GatewayConfig;
  keys: KeyRing;
  adminKey: ApiKeyRecord;
  life: Lifecycle;
  log: (line: string) => void;
}): { registry: DeviceRegistry; access: BrokerAccess } {
  const { config, life, log } = o;
  const fleetStore = new SqliteDeviceStore({ path: path.join(config.dataDir, 'fleet.sqlite') });
  life.defer('device store', () => fleetStore.close());
  // A service's registry: JS codecs are evaluated (in their worker threads) when loaded, not at the first uplink.
  const registry = new DeviceRegistry({ store: fleetStore, warmCodecs: true });
  life.defer('device registry codecs', () => registry.close());
  if (
    config.mqtt?.chirpstack.seedDemoFleet &&
    registry.listDevices({}).length === 0 &&
    registry.listProfiles().length === 0
  ) {
    const loaded = registry.loadFleet(demoFleetFile());
    log(`device registry: loaded the demo fleet (${loaded.profiles} profiles, ${loaded.devices} devices)`);
  }
  const credentials = new DeviceCredentials({
    store: new FileDeviceStore(path.join(config.dataDir, 'devices.json')),
  });
  const access = new BrokerAccess({
    devices: credentials,
    keys: o.keys,
    ...(config.mqtt?.fullAccessRequestsAsAdmin ? { fullAccessKey: o.adminKey } : {}),
  });
  return { registry, access };
}
