import { hexedge } from '@hexedge/test-kit';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { gatewayKeyFromSecret } from '@hexedge/gateway';

/** `hexedge gateway key`, run as an operator runs it: the key file the Worker's secret is made of. */
const dir = mkdtempSync(path.join(os.tmpdir(), 'hexedge-gateway-key-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('hexedge gateway key', () => {
  it('makes the key once (0600), names the same key on a second run, and the file is the Worker secret as is', async () => {
    const dataDir = path.join(dir, 'gw');
    const made = await hexedge(['gateway', 'key', '--data-dir', dataDir]);
    const id = /^gateway key (\S+) created in /m.exec(made)?.[1];
    expect(id, made).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await hexedge(['gateway', 'key', '--data-dir', dataDir])).toMatch(
      new RegExp(`^gateway key ${id} in `, 'm'),
    );
    const file = path.join(dataDir, 'report-key.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect((await gatewayKeyFromSecret(readFileSync(file, 'utf8'))).nodeId).toBe(id);
  });

  it('refuses to run without --data-dir, saying so', async () => {
    await expect(hexedge(['gateway', 'key'])).rejects.toThrow('gateway key needs --data-dir');
  });
});
