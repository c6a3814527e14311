import { Placement } from '@hexedge/placement';
import { GATEWAY_IDENTITY_PATH, gatewayIdentitySchema, generateNodeKeyPair } from '@hexedge/protocol';
import { describe, expect, it } from 'vitest';
import { gatewayConfigSchema } from '../src/config.ts';
import { createGatewayApp } from '../src/index.ts';
import { keyRing } from './fake-nodes.ts';

/**
 * `GET /v1/gateway/identity` lists every key the instances behind the gateway's URL sign with
 * (`reporterIds`, this one's first): edge nodes trust exactly those, so an instance whose key is
 * missing there would have its forwards refused, and a key left there would stay trusted.
 */
async function identityOf(options: { reporterId: string; siblingReporterIds?: string[] }) {
  const { app } = createGatewayApp({
    placement: new Placement({ heartbeatIntervalMs: 60_000 }),
    keys: await keyRing(),
    ...options,
  });
  const res = await app.request(GATEWAY_IDENTITY_PATH);
  expect(res.status).toBe(200);
  return gatewayIdentitySchema.parse(await res.json());
}

describe('gateway identity', () => {
  it('lists its own key alone, or with its siblings’ (once each)', async () => {
    const [own, sibling] = await Promise.all([generateNodeKeyPair(), generateNodeKeyPair()]);
    expect(await identityOf({ reporterId: own.nodeId })).toMatchObject({
      reporterId: own.nodeId,
      reporterIds: [own.nodeId],
    });
    expect(
      await identityOf({ reporterId: own.nodeId, siblingReporterIds: [sibling.nodeId, own.nodeId] }),
    ).toMatchObject({ reporterId: own.nodeId, reporterIds: [own.nodeId, sibling.nodeId] });
  });

  it('refuses a config naming a sibling key that is no key, or more siblings than an identity lists', async () => {
    expect(() => gatewayConfigSchema.parse({ siblingReporterIds: ['gateway-2'] })).toThrow(
      /siblingReporterIds/,
    );
    const many = await Promise.all(Array.from({ length: 16 }, () => generateNodeKeyPair()));
    expect(() => gatewayConfigSchema.parse({ siblingReporterIds: many.map((k) => k.nodeId) })).toThrow(
      /siblingReporterIds/,
    );
    expect(gatewayConfigSchema.parse({}).siblingReporterIds).toEqual([]);
  });
});
