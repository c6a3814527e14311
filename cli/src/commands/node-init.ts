import { NODE_CONFIG_FILE, renderNodeConfig } from '@hexedge/edge-node';
import { createNodeKey } from '@hexedge/edge-node/node';
import { toLatLng } from '@hexedge/protocol';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from '../command.ts';
import { numberFlag, parseFlags, required } from '../flags.ts';

/** `hexedge node init`: a key pair (0600), a location claim and a commented config file. */
export async function nodeInit(options: {
  dataDir: string;
  lat: number;
  lng: number;
  gatewayUrl?: string;
}): Promise<{ nodeId: string }> {
  const location = toLatLng({ lat: options.lat, lng: options.lng }, '--lat/--lng');
  await mkdir(options.dataDir, { recursive: true, mode: 0o700 });
  const keys = await createNodeKey(options.dataDir);
  await writeFile(
    path.join(options.dataDir, NODE_CONFIG_FILE),
    renderNodeConfig({ ...location, ...(options.gatewayUrl ? { gatewayUrl: options.gatewayUrl } : {}) }),
  );
  return { nodeId: keys.nodeId };
}

export const nodeInitCommand: Command = {
  name: ['node', 'init'],
  usage: `  node init  create a node's key pair, location claim and config file
             --data-dir DIR  --lat DEG  --lng DEG  [--gateway URL]
`,
  async run(args, io) {
    const { values } = parseFlags(args, {
      'data-dir': { type: 'string' },
      lat: { type: 'string' },
      lng: { type: 'string' },
      gateway: { type: 'string' },
    });
    const dataDir = required(values['data-dir'], 'node init needs --data-dir, --lat and --lng');
    const lat = numberFlag(required(values.lat, 'node init needs --data-dir, --lat and --lng'), '--lat')!;
    const lng = numberFlag(required(values.lng, 'node init needs --data-dir, --lat and --lng'), '--lng')!;
    const { nodeId } = await nodeInit({
      dataDir,
      lat,
      lng,
      ...(values.gateway ? { gatewayUrl: values.gateway } : {}),
    });
    io.out(
      `node ${nodeId} initialised in ${dataDir} (key: node-key.json, mode 0600; config: ${NODE_CONFIG_FILE})`,
    );
    io.out(`next: hexedge node run --data-dir ${dataDir}${values.gateway ? '' : ' --gateway <gateway URL>'}`);
  },
};
