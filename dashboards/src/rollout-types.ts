import type { components } from '@hexedge/client';

/**
 * Shapes of the gateway's rollout endpoints as the view reads them: the OpenAPI document's own schemas
 * (via @hexedge/client's generated types), so a field renamed at the gateway fails the typecheck here.
 */
type Schemas = components['schemas'];

export type Rollout = Schemas['Rollout'];
export type VersionPolicy = Schemas['VersionPolicy'];
export type RolloutsResponse = Schemas['RolloutList'];
export type VersionStats = NonNullable<Rollout['live']>['candidate'];
export type Verdict = NonNullable<Rollout['live']>['verdict'];
