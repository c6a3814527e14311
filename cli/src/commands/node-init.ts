import { toLatLng } from '@hexedge/protocol';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { NODE_CONFIG_FILE, renderNodeConfig } from '../config/node-config.ts';
import { createNodeKey } from '../node-keys.ts';

/** `hexedge node init`: a key pair (0600), a location claim and a commented config file. */
export async function nodeInit(options: { dataDir: string; lat: number; lng: number; gatewayUrl?: string }): Promise<{ nodeId: string }> {
  const location = toLatLng({ lat: options.lat, lng: options.lng }, '--lat/--lng');
  await mkdir(options.dataDir, { recursive: true, mode: 0o700 });
  const keys = await createNodeKey(options.dataDir);
  await writeFile(
    path.join(options.dataDir, NODE_CONFIG_FILE),
    renderNodeConfig({ ...location, ...(options.gatewayUrl ? { gatewayUrl: options.gatewayUrl } : {}) }),
  );
  return { nodeId: keys.nodeId };
}
