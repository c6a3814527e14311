import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifyDevicePassword } from '../src/index.ts';

const mosquittoPasswd = ['/usr/bin/mosquitto_passwd', '/usr/local/bin/mosquitto_passwd'].find((p) => existsSync(p));

describe.skipIf(!mosquittoPasswd)('device password hashes', () => {
  it('verifies a hash written by mosquitto_passwd (same PBKDF2-SHA512 $7$ format)', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'hexedge-passwd-'));
    try {
      const file = path.join(dir, 'pw');
      execFileSync(mosquittoPasswd!, ['-c', '-b', file, 'dev-1', 'correct horse'], { stdio: 'ignore' });
      const hash = readFileSync(file, 'utf8').trim().split(':')[1]!;
      expect(hash).toMatch(/^\$7\$/);
      expect(await verifyDevicePassword('correct horse', hash)).toBe(true);
      expect(await verifyDevicePassword('correct horsf', hash)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
