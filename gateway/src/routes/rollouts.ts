import { HexEdgeError, quoteValue } from '@hexedge/protocol';
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { GatewayEnv } from '../auth.ts';
import { readJsonBody } from '../http-errors.ts';
import { mount, type GatewayApp } from '../openapi/mount.ts';
import { valid } from '../openapi/params.ts';
import {
  abortRolloutRoute,
  createRolloutRoute,
  getRolloutRoute,
  getVersionPolicyRoute,
  listRolloutsRoute,
  modelParams,
  promoteRolloutRoute,
  putVersionPolicyRoute,
  rolloutListQuery,
  rolloutParams,
} from '../openapi/rollout-routes.ts';
import type { RolloutManager } from '../rollouts/rollout-manager.ts';

/** A rollout's body is a few hundred bytes; an include list of 256 principals fits easily. */
export const MAX_ROLLOUT_BODY_BYTES = 64 * 1024;
const limit = bodyLimit({
  maxSize: MAX_ROLLOUT_BODY_BYTES,
  onError: () => {
    throw new HexEdgeError('PAYLOAD_TOO_LARGE', `request body exceeds ${MAX_ROLLOUT_BODY_BYTES} bytes`);
  },
});

/** An optional `{ reason }` body for promote and abort (shown in the rollout's history); no body is fine. */
async function reasonOf(c: Context): Promise<string | undefined> {
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
      `reason must be a string of 1 to 500 characters, got ${quoteValue(reason)}`,
      { field: 'reason' },
    );
  return reason;
}

/**
 * Rollouts and version policies (admin key): create, list, inspect (with live figures), promote and
 * abort a rollout; read and set a model's version policy. Every change is durable before it is answered.
 */
export function mountRolloutRoutes(
  app: GatewayApp,
  o: { manager: RolloutManager; admin: MiddlewareHandler<GatewayEnv> },
): void {
  const { manager, admin } = o;
  const idOf = (c: Context) => valid(c, 'param', rolloutParams).id;
  const modelOf = (c: Context) => valid(c, 'param', modelParams).name;
  mount(app, createRolloutRoute, admin, limit, async (c) =>
    c.json(manager.view((await manager.create(await readJsonBody(c))).id), 201),
  );
  mount(app, listRolloutsRoute, admin, (c) => {
    const { model, limit: n } = valid(c, 'query', rolloutListQuery);
    return c.json({
      rollouts: manager.list({ ...(model !== undefined ? { model } : {}), limit: n }),
      policies: manager.policies(),
    });
  });
  mount(app, getRolloutRoute, admin, (c) => c.json(manager.view(idOf(c))));
  mount(app, promoteRolloutRoute, admin, limit, async (c) => {
    const id = idOf(c);
    const reason = await reasonOf(c);
    manager.promote(id, reason);
    return c.json(manager.view(id));
  });
  mount(app, abortRolloutRoute, admin, limit, async (c) => {
    const id = idOf(c);
    const reason = await reasonOf(c);
    manager.abort(id, reason);
    return c.json(manager.view(id));
  });
  mount(app, getVersionPolicyRoute, admin, (c) => c.json(manager.getPolicy(modelOf(c))));
  mount(app, putVersionPolicyRoute, admin, limit, async (c) =>
    c.json(manager.setPolicy(modelOf(c), await readJsonBody(c))),
  );
}
