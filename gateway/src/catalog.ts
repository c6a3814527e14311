import type { ModelManifest } from '@hexedge/protocol';

/**
 * The origin model registry: manifests and artifact bytes by content id. Nodes pull from it when no
 * peer has a model; the catalog endpoint describes what each model does. The Node adapter reads a
 * models directory (hash-checked); tests use the in-memory one.
 */
export interface ModelCatalog {
  manifests(): readonly ModelManifest[];
  /** One manifest by content id (the gateway checks requests against it before forwarding). */
  manifest?(contentId: string): ModelManifest | undefined;
  artifact(contentId: string): Promise<Uint8Array | undefined>;
}

export class MemoryModelCatalog implements ModelCatalog {
  readonly #models = new Map<string, { manifest: ModelManifest; bytes: Uint8Array }>();
  /** The list every request reads, made again only when a model is added. */
  #list: readonly ModelManifest[] | undefined;

  add(manifest: ModelManifest, bytes: Uint8Array): void {
    this.#models.set(manifest.contentId, { manifest, bytes });
    this.#list = undefined;
  }

  manifests(): readonly ModelManifest[] {
    return (this.#list ??= Object.freeze([...this.#models.values()].map((m) => m.manifest)));
  }

  manifest(contentId: string): ModelManifest | undefined {
    return this.#models.get(contentId)?.manifest;
  }

  async artifact(contentId: string): Promise<Uint8Array | undefined> {
    return this.#models.get(contentId)?.bytes;
  }
}
