import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { ModelManifest } from '../models/manifest.ts';
import type { ArtifactSource } from '../server/artifact-routes.ts';
import type { VerifiedArtifact } from '@hexedge/protocol/node';

/**
 * The artifacts a node serves to peers: the models-directory files whose hash checked out when they
 * were loaded or pulled. Bytes stream from disk rather than staying in memory beside the sessions;
 * a file whose size changed since is not served (the puller's hash check would refuse it anyway).
 */
export class ModelDirArtifacts implements ArtifactSource {
  readonly #byId = new Map<string, { manifest: ModelManifest; file: string }>();

  constructor(artifacts: Iterable<Pick<VerifiedArtifact, 'manifest' | 'file'>> = []) {
    for (const a of artifacts) this.add(a);
  }

  add(artifact: Pick<VerifiedArtifact, 'manifest' | 'file'>): void {
    this.#byId.set(artifact.manifest.contentId, { manifest: artifact.manifest, file: artifact.file });
  }

  get size(): number {
    return this.#byId.size;
  }

  async getManifest(contentId: string): Promise<ModelManifest | undefined> {
    return this.#byId.get(contentId)?.manifest;
  }

  async openArtifact(contentId: string) {
    const entry = this.#byId.get(contentId);
    if (!entry) return undefined;
    const sizeBytes = await stat(entry.file).then(
      (s) => s.size,
      () => -1,
    );
    if (sizeBytes !== entry.manifest.sizeBytes) return undefined;
    const body = Readable.toWeb(createReadStream(entry.file)) as ReadableStream<Uint8Array>;
    return { manifest: entry.manifest, body };
  }
}
