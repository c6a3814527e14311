import { HexEdgeError, type LatLng } from '@hexedge/protocol';
import type { Candidate, NodeRecord } from '@hexedge/placement';
import type { Context } from 'hono';
import type { ModelCatalog } from '../catalog.ts';
import { contentIdParams, peersQuery } from '../openapi/api-routes.ts';
import { valid } from '../openapi/params.ts';

/** The path's content id, checked by the route (64 lowercase hex characters). */
const contentIdParam = (c: Context): string => valid(c, 'param', contentIdParams).contentId;

/** GET /v1/models: each model, what it does, its inputs, and the healthy nodes serving it. */
export function catalogHandler(options: {
  catalog: ModelCatalog;
  healthyNodes: () => Iterable<NodeRecord> | Promise<Iterable<NodeRecord>>;
}) {
  return async (c: Context) => {
    const servedBy = new Map<string, { id: string; cell: string }[]>();
    for (const node of await options.healthyNodes()) {
      for (const m of node.models) {
        if (!m.ready) continue;
        // Appended in place: copying the list per holder was quadratic in a model's holders.
        const holders = servedBy.get(m.contentId);
        if (holders) holders.push({ id: node.id, cell: node.cell });
        else servedBy.set(m.contentId, [{ id: node.id, cell: node.cell }]);
      }
    }
    const models = options.catalog.manifests().map((m) => ({
      name: m.name,
      version: m.version,
      task: m.task,
      description: m.description,
      contentId: m.contentId,
      sizeBytes: m.sizeBytes,
      inputs: m.inputs,
      outputs: m.outputs,
      pipeline: m.pipeline ?? null,
      labels: m.labels && m.labels.length <= 64 ? m.labels : undefined,
      quantization: m.quantization,
      accuracy: m.accuracy,
      prefersAccelerator: m.prefersAccelerator,
      license: m.license,
      source: m.source,
      servedBy: servedBy.get(m.contentId) ?? [],
    }));
    return c.json({ models });
  };
}

/**
 * GET /v1/artifacts/{contentId}/peers?lat=&lng=&k= — healthy nodes holding an artifact (ready in their
 * last heartbeat), nearest first, so a node pulls from a neighbour before the origin. Public: nodes
 * hold no API key, and the answer is what any client could learn by asking the nodes themselves.
 */
export function peersHandler(options: {
  nearest: (q: { location: LatLng; k: number; contentId: string }) => Candidate[] | Promise<Candidate[]>;
}) {
  return async (c: Context) => {
    const id = contentIdParam(c);
    const { lat, lng, k } = valid(c, 'query', peersQuery);
    const location = { lat, lng };
    const peers = (await options.nearest({ location, k, contentId: id })).map(({ node, distanceKm }) => ({
      id: node.id,
      url: node.url,
      distanceKm: Math.round(distanceKm * 1000) / 1000,
    }));
    return c.json({ peers });
  };
}

/** GET /v1/models/{contentId}/manifest and /artifact: the origin registry nodes fall back to. */
export function originHandlers(catalog: ModelCatalog) {
  const find = (id: string) => {
    const manifest = catalog.manifests().find((m) => m.contentId === id);
    if (!manifest)
      throw new HexEdgeError('NOT_FOUND', `no model with content id ${id} in the origin registry`);
    return manifest;
  };
  return {
    manifest: (c: Context) => c.json(find(contentIdParam(c))),
    artifact: async (c: Context) => {
      const id = contentIdParam(c);
      find(id);
      const bytes = await catalog.artifact(id);
      if (!bytes) throw new HexEdgeError('NOT_FOUND', `artifact ${id} is listed but not held by the origin`);
      return new Response(bytes as Uint8Array<ArrayBuffer>, {
        headers: {
          'content-type': 'application/octet-stream',
          'content-length': String(bytes.length),
          etag: `"${id}"`,
          // Content-addressed: the bytes behind an id never change.
          'cache-control': 'public, max-age=31536000, immutable',
        },
      });
    },
  };
}
