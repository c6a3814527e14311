import { HexEdgeError } from '@hexedge/protocol';
import type { Hono, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { GatewayEnv } from '../auth.ts';
import { readJsonBody } from '../http-errors.ts';
import type { RolloutManager } from '../rollouts/rollout-manager.ts';

/** A rollout's body is a few hundred bytes; an include list of 256 principals fits easily. */
export const MAX_ROLLOUT_BODY_BYTES = 64 * 1024;
const ROLLOUT_ID = /^ro-[0-9a-f]{12}$/;
const MODEL_NAME = /^[\x21-\x7e]{1,128}$/;

const limit = bodyLimit({
  maxSize: MAX_ROLLOUT_BODY_BYTES,
  onError: () => {
    throw new HexEdgeError('PAYLOAD_TOO_LARGE', `request body exceeds ${MAX_ROLLOUT_BODY_BYTES} bytes`);
  },
});

const rolloutId = (raw: string | undefined) => {
  if (!raw || !ROLLOUT_ID.test(raw))
    throw new HexEdgeError(
      'INVALID_REQUEST',
      `not a rollout id: ${JSON.stringify((raw ?? '').slice(0, 80))} (ids look like ro-0123456789ab)`,
    );
  return raw;
};
const modelName = (raw: string | undefined) => {
  if (!raw || !MODEL_NAME.test(raw))
    throw new HexEdgeError(
      'INVALID_REQUEST',
      `not a model name: ${JSON.stringify((raw ?? '').slice(0, 80))}`,
    );
  return raw;
};

/** An optional `{ reason }` body for promote and abort (shown in the rollout's history); no body is fine. */
async function reasonOf(c: Parameters<MiddlewareHandler>[0]): Promise<string | undefined> {
  const text = await c.req.text();
  if (text.trim() === '') return undefined;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new HexEdgeError('INVALID_JSON', 'request body is not valid JSON');
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw new HexEdgeError('INVALID_REQUEST', 'body must be a JSON object such as {"reason": "…"}');
  const { reason } = body as { reason?: unknown };
  if (reason === undefined) return undefined;
  if (typeof reason !== 'string' || reason.length < 1 || reason.length > 500)
    throw new HexEdgeError(
      'INVALID_REQUEST',
      `reason must be a string of 1 to 500 characters, got ${JSON.stringify(reason)?.slice(0, 80)}`,
      { field: 'reason' },
    );
  return reason;
}

/**
 * Rollouts and version policies (admin key): create, list, inspect (with live figures), promote and
 * abort a rollout; read and set a model's version policy. Every change is durable before it is answered.
 */
export function mountRolloutRoutes(
  app: Hono<GatewayEnv>,
  o: { manager: RolloutManager; admin: MiddlewareHandler<GatewayEnv> },
): void {
  const { manager, admin } = o;
  app.post('/v1/rollouts', admin, limit, async (c) =>
    c.json(manager.view((await manager.create(await readJsonBody(c))).id), 201),
  );
  app.get('/v1/rollouts', admin, (c) => {
    const model = c.req.query('model');
    const limitRaw = c.req.query('limit');
    const n = limitRaw === undefined ? 100 : Number(limitRaw);
    if (!Number.isInteger(n) || n < 1 || n > 500)
      throw new HexEdgeError(
        'INVALID_REQUEST',
        `limit must be an integer from 1 to 500, got ${JSON.stringify(limitRaw)}`,
        { field: 'limit' },
      );
    return c.json({
      rollouts: manager.list({ ...(model !== undefined ? { model: modelName(model) } : {}), limit: n }),
      policies: manager.policies(),
    });
  });
  app.get('/v1/rollouts/:id', admin, (c) => c.json(manager.view(rolloutId(c.req.param('id')))));
  app.post('/v1/rollouts/:id/promote', admin, limit, async (c) => {
    const id = rolloutId(c.req.param('id'));
    const reason = await reasonOf(c);
    manager.promote(id, reason);
    return c.json(manager.view(id));
  });
  app.post('/v1/rollouts/:id/abort', admin, limit, async (c) => {
    const id = rolloutId(c.req.param('id'));
    const reason = await reasonOf(c);
    manager.abort(id, reason);
    return c.json(manager.view(id));
  });
  app.get('/v1/models/:name/version-policy', admin, (c) =>
    c.json(manager.getPolicy(modelName(c.req.param('name')))),
  );
  app.put('/v1/models/:name/version-policy', admin, limit, async (c) =>
    c.json(manager.setPolicy(modelName(c.req.param('name')), await readJsonBody(c))),
  );
}
