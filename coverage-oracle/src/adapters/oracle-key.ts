import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import {
  base64UrlToBytes,
  bytesToBase64Url,
  exportKeyPair,
  generateNodeKeyPair,
  importKeyPair,
  type NodeKeyPair,
} from '@hexedge/protocol';

export const ORACLE_KEY_FILE = 'oracle-key.json';
/** 32 bytes: every epoch's sampling seed is SHA-256(secret ‖ epoch), so whoever knows it knows which receipts will be checked. */
const SAMPLING_SECRET_BYTES = 32;

/**
 * The oracle's identity and sampling secret, kept together in `<dataDir>/oracle-key.json` (mode 0600):
 * created on first start, reused after. Losing it changes the oracle's id (gateways trust it by id)
 * and makes past sampling unverifiable, so it is never overwritten; a file others can read is refused.
 */
export async function loadOrCreateOracleKey(
  dataDir: string,
): Promise<{ keys: NodeKeyPair; samplingSecret: Uint8Array; created: boolean }> {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = path.join(dataDir, ORACLE_KEY_FILE);
  let text: string | undefined;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (text === undefined) {
    const keys = await generateNodeKeyPair();
    const samplingSecret = new Uint8Array(randomBytes(SAMPLING_SECRET_BYTES));
    const stored = { ...(await exportKeyPair(keys)), samplingSecret: bytesToBase64Url(samplingSecret) };
    // 'wx' refuses to overwrite a key another start wrote meanwhile.
    writeFileSync(file, JSON.stringify(stored, null, 2) + '\n', { mode: 0o600, flag: 'wx' });
    return { keys, samplingSecret, created: true };
  }
  const mode = statSync(file).mode;
  if ((mode & 0o077) !== 0)
    throw new Error(
      `${file} is readable by others (mode ${(mode & 0o777).toString(8)}); run chmod 600 on it`,
    );
  const stored = JSON.parse(text) as { nodeId: string; privateKeyPkcs8: string; samplingSecret: string };
  if (typeof stored.samplingSecret !== 'string') throw new Error(`${file} has no samplingSecret`);
  return {
    keys: await importKeyPair(stored),
    samplingSecret: base64UrlToBytes(stored.samplingSecret),
    created: false,
  };
}
