import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  exportKeyPair,
  generateNodeKeyPair,
  importKeyPair,
  type NodeKeyPair,
  type StoredKeyPair,
} from '../identity.ts';

/**
 * Ed25519 identities on disk (node keys, a gateway's report key): JSON, mode 0600, never overwritten.
 * Replacing a key silently changes an identity that others trust by its id, so creation refuses an
 * existing file and loading refuses a file other users can read.
 */

/** Extra fields stored beside the key (the oracle's sampling secret). */
export type KeyFileExtras = Record<string, string>;

export async function createKeyFile(file: string, extras: KeyFileExtras = {}): Promise<NodeKeyPair> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const keys = await generateNodeKeyPair();
  // 'wx' refuses to overwrite a key another start wrote meanwhile.
  await writeFile(file, JSON.stringify({ ...(await exportKeyPair(keys)), ...extras }, null, 2) + '\n', {
    mode: 0o600,
    flag: 'wx',
  });
  return keys;
}

/** Reads a key file; undefined when it does not exist. Other errors (permissions, bad JSON) name the file. */
export async function readKeyFile(
  file: string,
): Promise<{ keys: NodeKeyPair; extras: KeyFileExtras } | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`cannot read key file ${file}: ${(err as Error).message}`);
  }
  const { mode } = await stat(file);
  if ((mode & 0o077) !== 0)
    throw new Error(
      `${file} is readable by others (mode ${(mode & 0o777).toString(8)}); run chmod 600 on it`,
    );
  let stored: StoredKeyPair & KeyFileExtras;
  try {
    stored = JSON.parse(text) as StoredKeyPair & KeyFileExtras;
  } catch (err) {
    throw new Error(`${file} is not a key file (not JSON: ${(err as Error).message})`);
  }
  const { nodeId, privateKeyPkcs8, ...extras } = stored;
  return { keys: await importKeyPair({ nodeId, privateKeyPkcs8 }), extras };
}

/** The key in `file`, created on first use. `created` tells the caller to announce the new identity. */
export async function loadOrCreateKeyFile(
  file: string,
  makeExtras: () => KeyFileExtras = () => ({}),
): Promise<{ keys: NodeKeyPair; extras: KeyFileExtras; created: boolean }> {
  const found = await readKeyFile(file);
  if (found) return { ...found, created: false };
  const extras = makeExtras();
  try {
    return { keys: await createKeyFile(file, extras), extras, created: true };
  } catch (err) {
    // Another process created it between our read and write: use theirs.
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const raced = await readKeyFile(file);
    if (!raced) throw err;
    return { ...raced, created: false };
  }
}
