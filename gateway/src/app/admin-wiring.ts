// The routes only an admin API key may call: API keys, and, where the composition root gives them,
// the firmware bridge's devices and profiles and the model rollouts.
import { declaredBodyLimit } from '../body-limit.ts';
import { createKeyRoute, listKeysRoute, revokeKeyRoute } from '../openapi/api-routes.ts';
import { mount, type GatewayApp } from '../openapi/mount.ts';
import { mountDeviceRoutes } from '../routes/devices.ts';
import { keyHandlers } from '../routes/keys.ts';
import { mountRolloutRoutes } from '../routes/rollouts.ts';
import type { GatewayWiring } from './options.ts';

export const MAX_ADMIN_BODY_BYTES = 16 * 1024;

export function mountAdminRoutes(
  app: GatewayApp,
  { options, keys, admin }: Pick<GatewayWiring, 'options' | 'keys' | 'admin'>,
): void {
  const k = keyHandlers(keys);
  mount(app, createKeyRoute, admin, declaredBodyLimit(MAX_ADMIN_BODY_BYTES), k.create);
  mount(app, listKeysRoute, admin, k.list);
  mount(app, revokeKeyRoute, admin, k.revoke);
  if (options.devices) mountDeviceRoutes(app, { registry: options.devices, admin });
  if (options.rollouts) mountRolloutRoutes(app, { manager: options.rollouts, admin });
}
