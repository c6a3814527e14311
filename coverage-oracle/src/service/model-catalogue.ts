import type { CatalogueView } from '../spot-check/catalogue-binding.ts';
import type { HttpFetch } from './trust-publisher.ts';

const FETCH_TIMEOUT_MS = 5_000;
/** Manifests fetched per refresh: a catalog larger than this is read over several refreshes. */
const MAX_MANIFESTS_PER_REFRESH = 64;
const CONTENT_ID = /^[0-9a-f]{64}$/;

/**
 * The model catalogue as the gateways' origin registries publish it (`GET /v1/models`: name, version
 * and content id of each model; `GET /v1/models/{contentId}/manifest` for its tolerance). Receipts are
 * bound to it, not to what a node announces; an int8 model's comparison tolerance comes from its
 * manifest, a model whose manifest is not read yet gets the configured default. The first gateway to
 * list a name@version fixes its content id (a second that disagrees is ignored).
 */
export class ModelCatalogue implements CatalogueView {
  readonly #tolerance = new Map<string, number>();
  readonly #contentId = new Map<string, string>();
  readonly #byContentId = new Map<string, { name: string; version: string }>();
  readonly #names = new Set<string>();
  readonly #manifestsRead = new Set<string>();
  readonly #default: number;

  constructor(options: { defaultTolerance: number }) {
    this.#default = options.defaultTolerance;
  }

  toleranceFor = (modelName: string, modelVersion: string): number =>
    this.#tolerance.get(`${modelName}@${modelVersion}`) ?? this.#default;

  contentIdOf(modelName: string, modelVersion: string): string | undefined {
    return this.#contentId.get(`${modelName}@${modelVersion}`);
  }

  toleranceKnown = (modelName: string, modelVersion: string): boolean => {
    const key = `${modelName}@${modelVersion}`;
    if (this.#tolerance.has(key)) return true;
    const contentId = this.#contentId.get(key);
    return contentId !== undefined && this.#manifestsRead.has(contentId);
  };

  knowsName(modelName: string): boolean {
    return this.#names.has(modelName);
  }

  modelOf(contentId: string): { name: string; version: string } | undefined {
    return this.#byContentId.get(contentId);
  }

  /** Adds a model (tests; the refresh adds what the gateways list). */
  add(options: { modelName: string; modelVersion: string; contentId: string; tolerance?: number }): void {
    const key = `${options.modelName}@${options.modelVersion}`;
    if (!this.#contentId.has(key)) {
      this.#contentId.set(key, options.contentId);
      this.#byContentId.set(options.contentId, { name: options.modelName, version: options.modelVersion });
      this.#names.add(options.modelName);
    }
    if (options.tolerance !== undefined) this.#tolerance.set(key, options.tolerance);
  }

  /** Reads a gateway's catalogue and the manifests it has not seen; returns how many models were new. Throws on a transport fault. */
  async refresh(options: { gatewayUrl: string; fetch: HttpFetch }): Promise<number> {
    const get = async (path: string) => {
      const res = await options.fetch(new URL(path, options.gatewayUrl).href, {
        signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
      });
      if (!res.ok) throw new Error(`GET ${path} answered HTTP ${res.status}`);
      return (await res.json()) as Record<string, unknown>;
    };
    const { models } = (await get('/v1/models')) as {
      models?: Array<{ name?: unknown; version?: unknown; contentId?: unknown }>;
    };
    let added = 0;
    for (const m of models ?? []) {
      if (
        typeof m.name !== 'string' ||
        typeof m.version !== 'string' ||
        typeof m.contentId !== 'string' ||
        !CONTENT_ID.test(m.contentId)
      )
        continue;
      if (this.contentIdOf(m.name, m.version) === undefined) added++;
      this.add({ modelName: m.name, modelVersion: m.version, contentId: m.contentId });
    }
    const unread = [...this.#byContentId.keys()]
      .filter((id) => !this.#manifestsRead.has(id))
      .slice(0, MAX_MANIFESTS_PER_REFRESH);
    for (const contentId of unread) {
      const m = await get(`/v1/models/${contentId}/manifest`);
      this.#manifestsRead.add(contentId);
      if (
        typeof m.name === 'string' &&
        typeof m.version === 'string' &&
        typeof m.tolerance === 'number' &&
        m.tolerance >= 0
      )
        this.#tolerance.set(`${m.name}@${m.version}`, m.tolerance);
    }
    return added;
  }
}
