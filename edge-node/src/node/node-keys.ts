import type { NodeKeyPair } from '@hexedge/protocol';
import { createKeyFile, readKeyFile } from '@hexedge/protocol/node';
import path from 'node:path';

/** The node's identity in its data directory (mode 0600; `hexedge node init` creates it). */
export const NODE_KEY_FILE = 'node-key.json';

/** Creates the node's Ed25519 key pair; refuses to replace an existing one (that would change the node's identity). */
export function createNodeKey(dataDir: string): Promise<NodeKeyPair> {
  return createKeyFile(path.join(dataDir, NODE_KEY_FILE));
}

export async function loadNodeKey(dataDir: string): Promise<NodeKeyPair> {
  const file = path.join(dataDir, NODE_KEY_FILE);
  const found = await readKeyFile(file);
  if (!found)
    throw new Error(
      `no node key at ${file}; run \`hexedge node init --data-dir ${dataDir} --lat <lat> --lng <lng>\` first`,
    );
  return found.keys;
}
