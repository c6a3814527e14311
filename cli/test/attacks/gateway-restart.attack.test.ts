import { generateNodeKeyPair, signTrustMessage, TRUST_PATH, type NodeKeyPair } from '@hexedge/protocol';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scratch, startGatewayProcess } from '../faults/fabric.ts';
import { freePort, type Proc } from '@hexedge/test-kit';

/**
 * Attacks that need a gateway restart, against `hexedge gateway --config FILE` as a process: an admin
 * key the operator replaced that still works, and a captured trust push replayed after a restart.
 */
const OLD_ADMIN_KEY = 'attack-old-admin-key-0123456789';
const NEW_ADMIN_KEY = 'attack-new-admin-key-9876543210';
let fs: Awaited<ReturnType<typeof scratch>>;
let port: number;
let oracle: NodeKeyPair;
let gateway: (Proc & { url: string }) | undefined;

const start = async (adminKey: string) =>
  (gateway = await startGatewayProcess({
    dataDir: path.join(fs.dir, 'gateway'),
    modelsDir: fs.modelsDir,
    port,
    adminKey,
    oracle: { url: 'http://127.0.0.1:9', oracleIds: [oracle.nodeId] },
  }));

const usage = async (key: string) =>
  (await fetch(`${gateway!.url}/v1/usage`, { headers: { authorization: `Bearer ${key}` } })).status;

const push = async (message: unknown) => {
  const res = await fetch(`${gateway!.url}${TRUST_PATH}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(message),
  });
  return { status: res.status, body: (await res.json()) as { error?: { code: string } } };
};

beforeAll(async () => {
  fs = await scratch('restart');
  port = await freePort();
  oracle = await generateNodeKeyPair();
});

afterAll(async () => {
  await gateway?.stop();
  await fs?.cleanup();
});

let captured: unknown;

describe('attacks across a gateway restart (hexedge gateway as a process)', () => {
  beforeAll(async () => {
    await start(OLD_ADMIN_KEY);
    expect(await usage(OLD_ADMIN_KEY)).toBe(200);
    captured = await signTrustMessage({ oracle, seq: Date.now(), issuedAtMs: Date.now(), scores: [] });
    expect((await push(captured)).status).toBe(200);
    expect((await push(captured)).body.error?.code).toBe('REPLAYED');
    await gateway!.stop();
    await start(NEW_ADMIN_KEY);
  });

  it('retires the old admin key when HEXEDGE_ADMIN_KEY changes', async () => {
    expect(await usage(NEW_ADMIN_KEY)).toBe(200);
    // The operator replaced the key: whoever still holds the old one must be locked out.
    expect(await usage(OLD_ADMIN_KEY)).toBe(401);
  });

  it('refuses a trust push captured before the restart and replayed after it (REPLAYED)', async () => {
    const replayed = await push(captured);
    expect(replayed.status).toBe(409);
    expect(replayed.body.error?.code).toBe('REPLAYED');
  });
});
