import { HexEdgeError, type NodeModel } from '@hexedge/protocol';
import type { LoadedModel } from '../backends/backend.ts';
import { DEFAULT_SCHEDULER, ModelScheduler, type SchedulerOptions } from './scheduler.ts';

const compareVersions = (a: string, b: string) => a.localeCompare(b, 'en', { numeric: true });

/**
 * The models a node serves, by name and version, each behind its own scheduler (queue, batching).
 * A request without a version gets the highest version (numeric-aware order), as Triton's "latest"
 * policy does.
 */
export class ModelSet {
  readonly #byName = new Map<string, Map<string, ModelScheduler>>();
  readonly #scheduler: SchedulerOptions;

  constructor(options: { scheduler?: Partial<SchedulerOptions> } = {}) {
    this.#scheduler = { ...DEFAULT_SCHEDULER, ...options.scheduler };
  }

  add(model: LoadedModel, scheduler: Partial<SchedulerOptions> = {}): ModelScheduler {
    const { name, version } = model.manifest;
    let versions = this.#byName.get(name);
    if (!versions) this.#byName.set(name, (versions = new Map()));
    const s = new ModelScheduler(model, { ...this.#scheduler, ...scheduler });
    const replaced = versions.get(version);
    versions.set(version, s);
    // A model replaced under the same name and version gives back its sessions (and worker threads).
    if (replaced && replaced.model !== model) void replaced.model.release();
    return s;
  }

  get size(): number {
    let n = 0;
    for (const v of this.#byName.values()) n += v.size;
    return n;
  }

  *all(): IterableIterator<ModelScheduler> {
    for (const versions of this.#byName.values()) yield* versions.values();
  }

  versionsOf(name: string): string[] {
    return [...(this.#byName.get(name)?.keys() ?? [])].sort(compareVersions);
  }

  /** The model a request names; MODEL_NOT_FOUND names what exists when it does not. */
  resolve(name: string, version?: string): ModelScheduler {
    const versions = this.#byName.get(name);
    if (!versions) {
      throw new HexEdgeError(
        'MODEL_NOT_FOUND',
        `model '${name}' is not served here (models: ${[...this.#byName.keys()].join(', ') || 'none'})`,
      );
    }
    const chosen = version ?? this.versionsOf(name).at(-1)!;
    const s = versions.get(chosen);
    if (!s)
      throw new HexEdgeError(
        'MODEL_NOT_FOUND',
        `model '${name}' has no version '${chosen}' (versions: ${this.versionsOf(name).join(', ')})`,
      );
    return s;
  }

  /** What registration and heartbeats announce: each model with its execution provider and load. */
  describe(): NodeModel[] {
    return [...this.all()].map((s) => {
      const m = s.model.manifest;
      return {
        name: m.name,
        version: m.version,
        contentId: m.contentId,
        ready: true,
        executionProvider: s.model.executionProvider,
        prefersAccelerator: m.prefersAccelerator,
        sizeBytes: m.sizeBytes,
        load: {
          queueDepth: s.queueDepth,
          inFlight: s.inFlight,
          ewmaServiceMs: Math.round(s.ewmaServiceMs * 1000) / 1000,
        },
      };
    });
  }

  async releaseAll(): Promise<void> {
    for (const s of this.all()) await s.model.release();
    this.#byName.clear();
  }
}
