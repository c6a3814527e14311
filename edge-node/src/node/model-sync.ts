import {
  DESIRED_MODELS_PATH,
  desiredModelsAnswerSchema,
  type Hardware,
  type LatLng,
} from '@hexedge/protocol';
import { readModelDir, type VerifiedArtifact } from '@hexedge/protocol/node';
import { mkdir } from 'node:fs/promises';
import type { InferenceBackend } from '../backends/backend.ts';
import { loadModels } from '../backends/load-models.ts';
import type { BackendChoice } from '../backends/select.ts';
import type { ModelSet } from '../server/model-set.ts';
import { ModelDirArtifacts } from './artifact-index.ts';
import { formatModelRef, parseModelRef, type ModelRef } from '../store/model-ref.ts';
import { pullModel, type PullProgressEvent } from './pull.ts';
import type { PullSource } from '../store/pull-sources.ts';

/** How long the first run waits between asks while the gateway is unreachable or has nothing to give. */
const FIRST_RUN_RETRY_MS = { first: 1_000, max: 30_000 };
/** The nearest peers asked for an artifact before the origin. */
const PEERS_PER_PULL = 3;
const GATEWAY_CALL_TIMEOUT_MS = 5_000;

export interface ModelSyncOptions {
  modelsDir: string;
  models: ModelSet;
  backends: readonly InferenceBackend[];
  force: BackendChoice;
  /** The gateway: its origin registry, its peer lookup and its plan. */
  gatewayUrl: string;
  /** Peers from the config, tried before the ones the gateway names. */
  peers: readonly string[];
  location: LatLng;
  hardware: Hardware;
  onProgress?: (event: PullProgressEvent) => void;
  log: (line: string) => void;
}

/**
 * Keeps a node's served models in step with what it should hold: what its models directory has
 * (hash-checked), what its config names, on a first run what the gateway says a node at its place
 * should pull, and afterwards the planner's `desiredModels` from heartbeat answers. Pulls go to the
 * nearest peers that hold the artifact, then the origin; bytes are hash-checked before they land.
 * One pull at a time (a node's uplink is the bottleneck); a failed pull is logged and retried later.
 */
export class ModelSync {
  readonly artifacts = new ModelDirArtifacts();
  readonly #o: ModelSyncOptions;
  readonly #loaded = new Set<string>();
  #queue: Promise<void> = Promise.resolve();

  constructor(options: ModelSyncOptions) {
    this.#o = options;
  }

  get loadedCount(): number {
    return this.#loaded.size;
  }

  /** Loads every hash-checked model in the directory not yet served (creating the directory if needed). */
  async loadDir(): Promise<number> {
    await mkdir(this.#o.modelsDir, { recursive: true });
    const { artifacts, problems } = await readModelDir(this.#o.modelsDir).catch((err: Error) => {
      throw new Error(`cannot read models directory ${this.#o.modelsDir}: ${err.message}`);
    });
    for (const p of problems) this.#o.log(`model not loaded: ${p.file}: ${p.message}`);
    return this.#load(artifacts.filter((a) => !this.#loaded.has(a.manifest.contentId)));
  }

  /** Pulls and loads the models named that are not served yet; resolves when done (failures are logged). */
  want(refs: readonly (string | ModelRef)[], why: string): Promise<void> {
    const next = this.#queue.then(() =>
      this.#pullAll(
        refs.map((r) => (typeof r === 'string' ? parseModelRef(r) : r)),
        why,
      ),
    );
    this.#queue = next.catch(() => {});
    return next;
  }

  /**
   * A first run with an empty models directory: asks the gateway what a node here should pull, pulls
   * it, and returns once something is served. While the gateway cannot be reached, or has nothing this
   * node can hold, it says what to do and keeps asking (with backoff) until the signal aborts.
   */
  async firstRun(signal: AbortSignal): Promise<void> {
    let waitMs = FIRST_RUN_RETRY_MS.first;
    const o = this.#o;
    o.log(
      `no models in ${o.modelsDir} yet: asking the gateway at ${o.gatewayUrl} which models a node here should serve`,
    );
    while (!signal.aborted && this.#loaded.size === 0) {
      let advice: string;
      try {
        const wanted = await this.#desiredModels(signal);
        if (wanted.length > 0) {
          o.log(
            `the network wants ${wanted.length} model(s) here: ${wanted.map((m) => `${m.name}@${m.version} (${m.reason})`).join('; ')}`,
          );
          await this.want(
            wanted.map((m) => ({ contentId: m.contentId })),
            'first run',
          );
          if (this.#loaded.size > 0) return;
          advice = 'no model could be pulled (see the lines above)';
        } else {
          advice = `the gateway's origin registry lists no model this node can hold (${o.hardware.memoryMb} MiB, ${o.hardware.executionProviders.join('/')}); add models to the gateway's models directory, or pull one with \`hexedge node models pull <name@version> --data-dir …\``;
        }
      } catch (err) {
        if (signal.aborted) return;
        advice = `cannot reach the gateway at ${o.gatewayUrl} (${(err as Error).message}): is it running, and is --gateway (or gatewayUrl in node.yaml) right?`;
      }
      o.log(
        `${advice}; the node serves as soon as it has a model; asking again in ${Math.round(waitMs / 1000)} s`,
      );
      await sleep(waitMs, signal);
      waitMs = Math.min(FIRST_RUN_RETRY_MS.max, waitMs * 2);
    }
  }

  async #desiredModels(signal: AbortSignal) {
    const url = new URL(DESIRED_MODELS_PATH, this.#o.gatewayUrl);
    url.searchParams.set('lat', String(this.#o.location.lat));
    url.searchParams.set('lng', String(this.#o.location.lng));
    url.searchParams.set('memoryMb', String(this.#o.hardware.memoryMb));
    url.searchParams.set('providers', this.#o.hardware.executionProviders.join(','));
    const res = await fetch(url, {
      signal: AbortSignal.any([signal, AbortSignal.timeout(GATEWAY_CALL_TIMEOUT_MS)]),
    });
    if (!res.ok)
      throw new Error(
        `${DESIRED_MODELS_PATH} answered HTTP ${res.status}: ${(await res.text()).slice(0, 200)}`,
      );
    const parsed = desiredModelsAnswerSchema.safeParse(await res.json());
    if (!parsed.success)
      throw new Error(
        `${DESIRED_MODELS_PATH} answered an unexpected body (${parsed.error.issues[0]?.message})`,
      );
    return parsed.data.models;
  }

  async #pullAll(refs: ModelRef[], why: string): Promise<void> {
    const missing = refs.filter((r) => !('contentId' in r && this.#loaded.has(r.contentId)));
    for (const ref of missing) {
      try {
        const result = await pullModel({
          ref,
          sources: await this.#sourcesFor(ref),
          modelsDir: this.#o.modelsDir,
          ...(this.#o.onProgress ? { onProgress: this.#o.onProgress } : {}),
        });
        if (this.#loaded.has(result.manifest.contentId)) continue;
        const { artifacts } = await readModelDir(this.#o.modelsDir);
        const artifact = artifacts.find((a) => a.manifest.contentId === result.manifest.contentId);
        if (!artifact)
          throw new Error(`pulled ${formatModelRef(ref)} but it is not in ${this.#o.modelsDir} afterwards`);
        await this.#load([artifact]);
      } catch (err) {
        this.#o.log(
          `model ${formatModelRef(ref)} (${why}) not pulled, serving without it: ${(err as Error).message}`,
        );
      }
    }
  }

  /** Configured peers, then the gateway's nearest peers holding the artifact, then the origin. */
  async #sourcesFor(ref: ModelRef): Promise<PullSource[]> {
    const sources: PullSource[] = this.#o.peers.map((url) => ({ kind: 'peer', url }));
    if ('contentId' in ref) {
      try {
        const url = new URL(`/v1/artifacts/${ref.contentId}/peers`, this.#o.gatewayUrl);
        url.searchParams.set('lat', String(this.#o.location.lat));
        url.searchParams.set('lng', String(this.#o.location.lng));
        url.searchParams.set('k', String(PEERS_PER_PULL));
        const res = await fetch(url, { signal: AbortSignal.timeout(GATEWAY_CALL_TIMEOUT_MS) });
        if (res.ok) {
          const { peers } = (await res.json()) as { peers?: Array<{ url?: unknown }> };
          for (const p of peers ?? [])
            if (typeof p.url === 'string' && !sources.some((s) => s.url === p.url))
              sources.push({ kind: 'peer', url: p.url });
        }
      } catch {
        // No peer list: the origin still has it.
      }
    }
    sources.push({ kind: 'origin', url: this.#o.gatewayUrl });
    return sources;
  }

  async #load(artifacts: VerifiedArtifact[]): Promise<number> {
    if (artifacts.length === 0) return 0;
    const report = await loadModels({
      artifacts,
      backends: this.#o.backends,
      force: this.#o.force,
      models: this.#o.models,
    });
    for (const m of report.loaded)
      this.#o.log(
        `loaded ${m.name}@${m.version} on ${m.backend}/${m.executionProvider} (warm-up ${m.warmUpMs.toFixed(1)} ms)`,
      );
    for (const m of report.failed) this.#o.log(`model not loaded: ${m.name}@${m.version}: ${m.message}`);
    for (const a of artifacts) {
      if (!report.loaded.some((m) => m.name === a.manifest.name && m.version === a.manifest.version))
        continue;
      this.#loaded.add(a.manifest.contentId);
      this.artifacts.add(a);
    }
    return report.loaded.length;
  }
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
  });
