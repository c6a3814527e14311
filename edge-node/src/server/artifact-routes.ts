import { HexEdgeError } from '@hexedge/protocol';
import type { Context, Hono } from 'hono';
import type { ModelManifest } from '../models/manifest.ts';
import { isValidContentId } from '../store/model-ref.ts';

/**
 * The artifacts a node holds, by content id. Node-side implementation: `ModelDirArtifacts`
 * (node/artifact-index.ts, files of the models directory); a cache on another runtime may back it
 * with any blob store.
 */
export interface ArtifactSource {
  getManifest(contentId: string): Promise<ModelManifest | undefined>;
  /** The artifact's bytes; `sizeBytes` must equal the manifest's, so content-length is exact. */
  openArtifact(
    contentId: string,
  ): Promise<{ manifest: ModelManifest; body: Uint8Array | ReadableStream<Uint8Array> } | undefined>;
}

/** A content id names its bytes forever, so caches (browsers, CDNs, peers) may keep them a year. */
const IMMUTABLE_CACHE_CONTROL = 'public, max-age=31536000, immutable';

function contentIdParam(c: Context): string {
  const id = c.req.param('contentId')!;
  if (!isValidContentId(id)) {
    throw new HexEdgeError(
      'INVALID_REQUEST',
      `content id ${JSON.stringify(id.slice(0, 100))} is not a SHA-256 in lowercase hex (64 characters 0-9a-f)`,
    );
  }
  return id;
}

const notHeld = (id: string) =>
  new HexEdgeError('MODEL_NOT_FOUND', `no artifact with content id ${id} is held here`);

/**
 * Peer distribution: a node serves the artifacts it holds, so nearby nodes pull from it instead of
 * the origin. Any peer is safe to ask because the puller checks every byte against the content id.
 *   GET /v1/artifacts/{contentId}           the bytes (ETag = content id, immutable)
 *   GET /v1/artifacts/{contentId}/manifest  the manifest (JSON)
 */
export function registerArtifactRoutes(app: Hono, artifacts: ArtifactSource): void {
  app.get('/v1/artifacts/:contentId/manifest', async (c) => {
    const id = contentIdParam(c);
    const manifest = await artifacts.getManifest(id);
    if (!manifest) throw notHeld(id);
    return c.json(manifest, 200, { etag: `"${id}"`, 'cache-control': IMMUTABLE_CACHE_CONTROL });
  });
  app.get('/v1/artifacts/:contentId', async (c) => {
    const id = contentIdParam(c);
    const etag = `"${id}"`;
    const headers = { etag, 'cache-control': IMMUTABLE_CACHE_CONTROL };
    // The same id can only ever mean the same bytes, so a matching tag needs no look-up at all.
    if (
      c.req
        .header('if-none-match')
        ?.split(',')
        .some((t) => t.trim() === etag)
    )
      return c.body(null, 304, headers);
    const found = await artifacts.openArtifact(id);
    if (!found) throw notHeld(id);
    return new Response(found.body as BodyInit, {
      headers: {
        ...headers,
        'content-type': 'application/octet-stream',
        'content-length': String(found.manifest.sizeBytes),
      },
    });
  });
}
