import { modelManifestSchema, type ModelManifest } from '../models/manifest.ts';
import type { ModelRef } from './model-ref.ts';

/**
 * Where a node may pull an artifact from. Peers are other edge nodes (`/v1/artifacts/…`, served by
 * every node's OIP app); the origin is the gateway's registry (`/v1/models/…`). Both are untrusted
 * for the bytes — the content id checks them — so order is only about distance and load.
 */
export interface PullSource {
  kind: 'peer' | 'origin';
  /** Base URL, e.g. http://10.0.0.7:8080 */
  url: string;
}

export function artifactUrl(source: PullSource, contentId: string): string {
  const path = source.kind === 'peer' ? `v1/artifacts/${contentId}` : `v1/models/${contentId}/artifact`;
  return new URL(path, withSlash(source.url)).href;
}

export function manifestUrl(source: PullSource, contentId: string): string {
  const path = source.kind === 'peer' ? `v1/artifacts/${contentId}/manifest` : `v1/models/${contentId}/manifest`;
  return new URL(path, withSlash(source.url)).href;
}

/** A base URL with a path (https://gw.example/hexedge) keeps it when the route is appended. */
const withSlash = (url: string) => (url.endsWith('/') ? url : `${url}/`);

/** Manifests are small JSON (PP-OCR's, with 6625 labels, is ~60 KiB); anything bigger is not one. */
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
/** The gateway's catalog lists every model once, without big label lists. */
const MAX_CATALOG_BYTES = 16 * 1024 * 1024;

async function getJson(url: string, o: { timeoutMs: number; maxBytes: number }): Promise<{ status: number; json?: unknown; text: string }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(o.timeoutMs) });
  const text = await res.text();
  if (!res.ok) return { status: res.status, text };
  if (text.length > o.maxBytes) throw new Error(`answer is over ${o.maxBytes} bytes`);
  return { status: res.status, json: JSON.parse(text) as unknown, text };
}

/**
 * name@version → content id, from the origin's catalog (`GET /v1/models`, public on the gateway):
 * peers index artifacts by content id only, so a name needs the registry.
 */
async function contentIdFromCatalog(o: { name: string; version: string; sources: PullSource[]; timeoutMs: number; problems: string[] }) {
  for (const source of o.sources.filter((s) => s.kind === 'origin')) {
    try {
      const { status, json, text } = await getJson(new URL('v1/models', withSlash(source.url)).href, { timeoutMs: o.timeoutMs, maxBytes: MAX_CATALOG_BYTES });
      if (!json) {
        o.problems.push(`origin ${source.url}: catalog answered ${status}: ${text.slice(0, 200)}`);
        continue;
      }
      const models = (json as { models?: { name?: unknown; version?: unknown; contentId?: unknown }[] }).models ?? [];
      const found = models.find((m) => m.name === o.name && m.version === o.version);
      if (typeof found?.contentId === 'string') return found.contentId;
      const versions = models.filter((m) => m.name === o.name).map((m) => String(m.version));
      o.problems.push(`origin ${source.url}: no ${o.name}@${o.version} in its catalog${versions.length > 0 ? ` (versions: ${versions.join(', ')})` : ''}`);
    } catch (err) {
      o.problems.push(`origin ${source.url}: ${describeFetchError(err)}`);
    }
  }
  if (!o.sources.some((s) => s.kind === 'origin')) o.problems.push('name@version needs the gateway (its catalog maps names to content ids; peers serve content ids only)');
  return undefined;
}

/**
 * Asks the sources for the manifest of a ref, origin first: the manifest's content id is what the
 * bytes are checked against, so it should come from the registry when the registry answers, and from
 * a peer only when it does not. Returns the manifest and the problems met on the way.
 */
export async function resolveManifest(options: {
  ref: ModelRef;
  sources: PullSource[];
  timeoutMs: number;
}): Promise<{ manifest: ModelManifest | undefined; problems: string[] }> {
  const { ref } = options;
  const problems: string[] = [];
  const contentId =
    'contentId' in ref ? ref.contentId : await contentIdFromCatalog({ ...ref, sources: options.sources, timeoutMs: options.timeoutMs, problems });
  if (!contentId) return { manifest: undefined, problems };
  const ordered = [...options.sources.filter((s) => s.kind === 'origin'), ...options.sources.filter((s) => s.kind === 'peer')];
  for (const source of ordered) {
    try {
      const { status, json, text } = await getJson(manifestUrl(source, contentId), { timeoutMs: options.timeoutMs, maxBytes: MAX_MANIFEST_BYTES });
      if (!json) {
        problems.push(`${source.kind} ${source.url}: manifest answered ${status}${status === 404 ? ' (not held there)' : `: ${text.slice(0, 200)}`}`);
        continue;
      }
      const parsed = modelManifestSchema.safeParse(json);
      if (!parsed.success) throw new Error(`invalid manifest: ${parsed.error.issues[0]!.path.join('.')}: ${parsed.error.issues[0]!.message}`);
      const m = parsed.data;
      const matches = m.contentId === contentId && ('contentId' in ref || (m.name === ref.name && m.version === ref.version));
      if (!matches) throw new Error(`answered the manifest of ${m.name}@${m.version} (${m.contentId}), not the one asked for`);
      return { manifest: m, problems };
    } catch (err) {
      problems.push(`${source.kind} ${source.url}: ${describeFetchError(err)}`);
    }
  }
  return { manifest: undefined, problems };
}

/** fetch's "fetch failed" hides the reason (ECONNREFUSED, ENOTFOUND…) in `cause`. */
export function describeFetchError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  if (err.name === 'TimeoutError' || err.name === 'AbortError') return 'timed out';
  const cause = (err as Error & { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code) return `unreachable (${cause.code})`;
  return cause?.message ? `${err.message}: ${cause.message}` : err.message;
}
