import { HexEdgeError, parseWith } from '@hexedge/protocol';
import type { Context } from 'hono';
import { z } from 'zod';
import { readJsonBody } from '../http-errors.ts';
import type { KeyRing } from '../keys/key-ring.ts';
import type { ApiKeyRecord } from '../keys/key-store.ts';

export const newKeySchema = z
  .object({
    name: z.string().min(1).max(128),
    role: z.enum(['admin', 'app']).optional(),
    models: z.array(z.string().min(1).max(128)).min(1).max(256).optional(),
    region: z.string().regex(/^[A-Za-z0-9]{2,32}$/).optional(),
    ratePerSecond: z.number().positive().max(1e6).optional(),
    burst: z.number().int().positive().max(1e6).optional(),
    dailyQuota: z.number().int().positive().max(1e10).optional(),
    expiresInMs: z.number().int().positive().max(10 * 365 * 86_400_000).optional(),
  })
  .strict();

/** A key as listed: everything but the hash. */
const view = (r: ApiKeyRecord) => {
  const { hash: _hash, ...rest } = r;
  return rest;
};

/** /v1/keys (admin only): create (the key is shown once, in this answer), list, revoke. */
export function keyHandlers(keys: KeyRing, now: () => number = Date.now) {
  return {
    create: async (c: Context) => {
      const spec = parseWith(newKeySchema, await readJsonBody(c), { what: 'new key' });
      const { expiresInMs, ...rest } = spec;
      const { key, record } = await keys.create({ ...rest, ...(expiresInMs ? { expiresAtMs: now() + expiresInMs } : {}) });
      return c.json({ key, ...view(record), note: 'store the key now: the gateway keeps only its hash and cannot show it again' }, 201);
    },
    list: async (c: Context) => c.json({ keys: (await keys.list()).map(view) }),
    revoke: async (c: Context) => {
      const id = c.req.param('id')!;
      if (!/^[A-Za-z0-9_-]{1,64}$/.test(id)) throw new HexEdgeError('INVALID_REQUEST', `not a key id: ${JSON.stringify(id.slice(0, 80))}`);
      return c.json(view(await keys.revoke(id)));
    },
  };
}
