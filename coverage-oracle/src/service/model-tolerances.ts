import type { HttpFetch } from './trust-publisher.ts';

const FETCH_TIMEOUT_MS = 5_000;
/** Manifests fetched per refresh: a catalog larger than this is read over several refreshes. */
const MAX_MANIFESTS_PER_REFRESH = 64;

/**
 * Comparison tolerances from the models' manifests, as the gateway's origin registry publishes them
 * (`GET /v1/models`, then `GET /v1/models/{contentId}/manifest` for each model not yet known). An int8
 * model needs its own tolerance; a model whose manifest is not known yet gets the configured default.
 */
export class ModelTolerances {
  readonly #byModel = new Map<string, number>();
  readonly #known = new Set<string>();
  readonly #default: number;

  constructor(options: { defaultTolerance: number }) {
    this.#default = options.defaultTolerance;
  }

  toleranceFor = (modelName: string, modelVersion: string): number => this.#byModel.get(`${modelName}@${modelVersion}`) ?? this.#default;

  set(options: { modelName: string; modelVersion: string; tolerance: number }): void {
    this.#byModel.set(`${options.modelName}@${options.modelVersion}`, options.tolerance);
  }

  /** Reads manifests it has not seen from a gateway; returns how many were added. Throws on a transport fault. */
  async refresh(options: { gatewayUrl: string; fetch: HttpFetch }): Promise<number> {
    const get = async (path: string) => {
      const res = await options.fetch(new URL(path, options.gatewayUrl).href, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
      if (!res.ok) throw new Error(`GET ${path} answered HTTP ${res.status}`);
      return (await res.json()) as Record<string, unknown>;
    };
    const { models } = (await get('/v1/models')) as { models?: Array<{ contentId?: unknown }> };
    const fresh = (models ?? [])
      .map((m) => m.contentId)
      .filter((id): id is string => typeof id === 'string' && /^[0-9a-f]{64}$/.test(id) && !this.#known.has(id))
      .slice(0, MAX_MANIFESTS_PER_REFRESH);
    let added = 0;
    for (const contentId of fresh) {
      const m = await get(`/v1/models/${contentId}/manifest`);
      this.#known.add(contentId);
      if (typeof m.name === 'string' && typeof m.version === 'string' && typeof m.tolerance === 'number' && m.tolerance >= 0) {
        this.set({ modelName: m.name, modelVersion: m.version, tolerance: m.tolerance });
        added++;
      }
    }
    return added;
  }
}
