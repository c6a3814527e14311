import { parseWith } from '@hexedge/protocol';
import type { Context } from 'hono';
import { readJsonBody } from '../http-errors.ts';
import { keyIdParams, newKeySchema } from '../openapi/api-routes.ts';
import { valid } from '../openapi/params.ts';
import type { KeyRing } from '../keys/key-ring.ts';
import type { ApiKeyRecord } from '../keys/key-store.ts';


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
      const { id } = valid(c, 'param', keyIdParams);
      return c.json(view(await keys.revoke(id)));
    },
  };
}
