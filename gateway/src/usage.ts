/** Latency samples kept per key and model for the median (a ring; old samples fall out). */
const LATENCY_SAMPLES = 256;
/**
 * Model rows kept per key: the model name comes from the request body, so without a bound one key
 * could grow this book by a row (and 2 KiB of samples) per invented name. Past it, requests count
 * under OTHER_MODELS. (Error codes are ours, a closed set: the per-key error map is bounded already.)
 */
export const MAX_MODELS_PER_KEY = 64;
export const OTHER_MODELS = '(other)';

interface ModelUsage {
  requests: number;
  errors: number;
  latencyMs: Float64Array;
  samples: number;
}

interface KeyUsage {
  requests: number;
  errors: Record<string, number>;
  models: Map<string, ModelUsage>;
}

export interface UsageReport {
  requests: number;
  errors: Record<string, number>;
  models: { model: string; requests: number; errors: number; p50Ms: number | null }[];
}

/** What each key used: requests, errors by code, per-model counts and median latency. In memory. */
export class UsageBook {
  readonly #byKey = new Map<string, KeyUsage>();

  record(options: { keyId: string; model: string; ok: boolean; code?: string; latencyMs: number }): void {
    let k = this.#byKey.get(options.keyId);
    if (!k) this.#byKey.set(options.keyId, (k = { requests: 0, errors: {}, models: new Map() }));
    k.requests++;
    const model =
      k.models.has(options.model) || k.models.size < MAX_MODELS_PER_KEY - 1 ? options.model : OTHER_MODELS;
    let m = k.models.get(model);
    if (!m)
      k.models.set(
        model,
        (m = { requests: 0, errors: 0, latencyMs: new Float64Array(LATENCY_SAMPLES), samples: 0 }),
      );
    m.requests++;
    if (!options.ok) {
      m.errors++;
      const code = options.code ?? 'INTERNAL';
      k.errors[code] = (k.errors[code] ?? 0) + 1;
      return;
    }
    m.latencyMs[m.samples % LATENCY_SAMPLES] = options.latencyMs;
    m.samples++;
  }

  report(keyId: string): UsageReport {
    const k = this.#byKey.get(keyId);
    if (!k) return { requests: 0, errors: {}, models: [] };
    return {
      requests: k.requests,
      errors: { ...k.errors },
      models: [...k.models].map(([model, m]) => {
        const n = Math.min(m.samples, LATENCY_SAMPLES);
        const sorted = Array.from(m.latencyMs.subarray(0, n)).sort((a, b) => a - b);
        return {
          model,
          requests: m.requests,
          errors: m.errors,
          p50Ms: n ? Math.round(sorted[Math.floor((n - 1) / 2)]! * 1000) / 1000 : null,
        };
      }),
    };
  }
}
