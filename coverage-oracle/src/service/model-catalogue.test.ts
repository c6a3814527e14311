import { describe, expect, it } from 'vitest';
import { ModelCatalogue } from './model-catalogue.ts';

const CONTENT_ID = 'a'.repeat(64);
const GATEWAY = 'http://gateway.test';

/** A gateway's catalogue routes, whose manifest route can be made to fail (a gateway mid-restart). */
function gateway(options: { manifestStatus: () => number }) {
  return async (url: string | URL | Request) => {
    const path = new URL(url instanceof Request ? url.url : url).pathname;
    if (path === '/v1/models')
      return Response.json({ models: [{ name: 'comfort-index', version: '1', contentId: CONTENT_ID }] });
    if (path === `/v1/models/${CONTENT_ID}/manifest`) {
      const status = options.manifestStatus();
      return status === 200
        ? Response.json({ name: 'comfort-index', version: '1', tolerance: 0.05 })
        : new Response('unavailable', { status });
    }
    return new Response('not found', { status: 404 });
  };
}

describe('ModelCatalogue', () => {
  it('does not claim to know a tolerance before the model’s manifest is read', async () => {
    let manifestStatus = 503;
    const fetch = gateway({ manifestStatus: () => manifestStatus });
    const catalogue = new ModelCatalogue({ defaultTolerance: 1e-4 });

    // The listing is read, the manifest fails: the model is known, its tolerance is not.
    await expect(catalogue.refresh({ gatewayUrl: GATEWAY, fetch })).rejects.toThrow(/HTTP 503/);
    expect(catalogue.contentIdOf('comfort-index', '1')).toBe(CONTENT_ID);
    expect(catalogue.toleranceKnown('comfort-index', '1')).toBe(false);

    // The next refresh reads it.
    manifestStatus = 200;
    await catalogue.refresh({ gatewayUrl: GATEWAY, fetch });
    expect(catalogue.toleranceKnown('comfort-index', '1')).toBe(true);
    expect(catalogue.toleranceFor('comfort-index', '1')).toBe(0.05);
  });

  it('a model added with its tolerance (tests, local catalogues) is known at once', () => {
    const catalogue = new ModelCatalogue({ defaultTolerance: 1e-4 });
    catalogue.add({ modelName: 'm', modelVersion: '2', contentId: CONTENT_ID, tolerance: 1e-3 });
    expect(catalogue.toleranceKnown('m', '2')).toBe(true);
    expect(catalogue.toleranceKnown('m', '3')).toBe(false);
  });
});
