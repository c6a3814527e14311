import { exportKeyPair, generateNodeKeyPair, importKeyPair, type NodeKeyPair, type StoredKeyPair } from '@hexedge/protocol';
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';

export const NODE_KEY_FILE = 'node-key.json';

/** Creates the node's Ed25519 key pair in its data directory, readable by the owner only (0600). */
export async function createNodeKey(dataDir: string): Promise<NodeKeyPair> {
  const keys = await generateNodeKeyPair();
  const file = path.join(dataDir, NODE_KEY_FILE);
  // 'wx' refuses to overwrite: replacing a key would silently change the node's identity.
  await writeFile(file, JSON.stringify(await exportKeyPair(keys), null, 2) + '\n', { mode: 0o600, flag: 'wx' });
  return keys;
}

export async function loadNodeKey(dataDir: string): Promise<NodeKeyPair> {
  const file = path.join(dataDir, NODE_KEY_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new Error(`no node key at ${file}; run \`hexedge node init --data-dir ${dataDir} --lat <lat> --lng <lng>\` first`);
  }
  const { mode } = await stat(file);
  if ((mode & 0o077) !== 0) throw new Error(`${file} is readable by others (mode ${(mode & 0o777).toString(8)}); run chmod 600 on it`);
  return importKeyPair(JSON.parse(text) as StoredKeyPair);
}
