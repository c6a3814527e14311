import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteKeyStore } from '../src/adapters/sqlite-key-store.ts';
import { KeyRing } from '../src/index.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'hexedge-keys-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('SqliteKeyStore', () => {
  it('keeps created and revoked keys across a restart, and never the key itself', async () => {
    const file = path.join(dir, 'keys.sqlite');
    const first = new SqliteKeyStore({ path: file });
    const ring = new KeyRing({ store: first });
    const kept = await ring.create({ name: 'kept', models: ['m'] });
    const gone = await ring.create({ name: 'gone' });
    await ring.revoke(gone.record.id);
    first.close();

    const reopened = new KeyRing({ store: new SqliteKeyStore({ path: file }) });
    expect((await reopened.authenticate(kept.key)).models).toEqual(['m']);
    await expect(reopened.authenticate(gone.key)).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    const { readFileSync } = await import('node:fs');
    expect(readFileSync(file).includes(Buffer.from(kept.key))).toBe(false);
  });
});
