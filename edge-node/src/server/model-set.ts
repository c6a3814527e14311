import { HexEdgeError, type ExecutionProvider, type NodeModel } from '@hexedge/protocol';
import type { LoadedModel } from '../backends/backend.ts';

/** Weight of the newest sample in the service-time EWMA (about the last 10 requests). */
const EWMA_ALPHA = 0.2;

interface Entry {
  model: LoadedModel;
  inFlight: number;
  ewmaServiceMs: number;
}

const compareVersions = (a: string, b: string) => a.localeCompare(b, 'en', { numeric: true });

/**
 * The models a node serves, by name and version, with the load figures heartbeats report. A request
 * without a version gets the highest version (numeric-aware order), as Triton's "latest" policy does.
 */
export class ModelSet {
  readonly #byName = new Map<string, Map<string, Entry>>();

  add(model: LoadedModel): void {
    const { name, version } = model.manifest;
    let versions = this.#byName.get(name);
    if (!versions) this.#byName.set(name, (versions = new Map()));
    versions.set(version, { model, inFlight: 0, ewmaServiceMs: 0 });
  }

  get size(): number {
    let n = 0;
    for (const v of this.#byName.values()) n += v.size;
    return n;
  }

  versionsOf(name: string): string[] {
    return [...(this.#byName.get(name)?.keys() ?? [])].sort(compareVersions);
  }

  /** The model a request names; MODEL_NOT_FOUND names what exists when it does not. */
  resolve(name: string, version?: string): LoadedModel {
    const versions = this.#byName.get(name);
    if (!versions) {
      throw new HexEdgeError('MODEL_NOT_FOUND', `model '${name}' is not served here (models: ${[...this.#byName.keys()].join(', ') || 'none'})`);
    }
    const chosen = version ?? this.versionsOf(name).at(-1)!;
    const entry = versions.get(chosen);
    if (!entry) {
      throw new HexEdgeError('MODEL_NOT_FOUND', `model '${name}' has no version '${chosen}' (versions: ${this.versionsOf(name).join(', ')})`);
    }
    return entry.model;
  }

  /** Wraps one run so in-flight counts and the service-time EWMA follow what the node actually does. */
  async track<T>(model: LoadedModel, run: () => Promise<T>): Promise<{ result: T; serviceTimeMs: number }> {
    const entry = this.#byName.get(model.manifest.name)!.get(model.manifest.version)!;
    entry.inFlight++;
    const started = performance.now();
    try {
      const result = await run();
      const serviceTimeMs = performance.now() - started;
      entry.ewmaServiceMs = entry.ewmaServiceMs === 0 ? serviceTimeMs : entry.ewmaServiceMs + EWMA_ALPHA * (serviceTimeMs - entry.ewmaServiceMs);
      return { result, serviceTimeMs };
    } finally {
      entry.inFlight--;
    }
  }

  /** What registration and heartbeats announce. */
  describe(): NodeModel[] {
    const out: NodeModel[] = [];
    for (const versions of this.#byName.values()) {
      for (const { model, inFlight, ewmaServiceMs } of versions.values()) {
        const m = model.manifest;
        out.push({
          name: m.name,
          version: m.version,
          contentId: m.contentId,
          ready: true,
          executionProvider: model.executionProvider as ExecutionProvider,
          load: { queueDepth: 0, inFlight, ewmaServiceMs: Math.round(ewmaServiceMs * 1000) / 1000 },
        });
      }
    }
    return out;
  }

  async releaseAll(): Promise<void> {
    for (const versions of this.#byName.values()) for (const e of versions.values()) await e.model.release();
    this.#byName.clear();
  }
}
