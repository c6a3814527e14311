import type { Ingest, IngestResult } from '../ingest/ingest.ts';
import type { Stage } from './stage.ts';

/**
 * Ingest as a stage: queued reports (MQTT, files, bulk uploads) are checked in batches; the HTTP path
 * calls `ingest.submit` directly and answers with its result. A full queue refuses more (backpressure).
 */
export class IngestStage implements Stage {
  readonly name = 'ingest';
  readonly #ingest: Ingest;
  readonly #batchSize: number;
  readonly #maxQueued: number;
  readonly #queue: Array<{ raw: unknown; resolve: (r: IngestResult) => void; reject: (e: unknown) => void }> = [];

  constructor(options: { ingest: Ingest; batchSize?: number; maxQueued?: number }) {
    this.#ingest = options.ingest;
    this.#batchSize = options.batchSize ?? 512;
    this.#maxQueued = options.maxQueued ?? 65_536;
  }

  get queued(): number {
    return this.#queue.length;
  }

  enqueue(raw: unknown): Promise<IngestResult> {
    if (this.#queue.length >= this.#maxQueued) {
      return Promise.resolve({ accepted: false, code: 'OVERLOADED', message: `ingest queue is full (${this.#maxQueued} reports)` });
    }
    return new Promise((resolve, reject) => this.#queue.push({ raw, resolve, reject }));
  }

  async tick(nowMs: number): Promise<number> {
    const batch = this.#queue.splice(0, this.#batchSize);
    if (batch.length === 0) return 0;
    try {
      const results = await this.#ingest.submitBatch(batch.map((b) => b.raw), nowMs);
      batch.forEach((b, i) => b.resolve(results[i]!));
    } catch (err) {
      batch.forEach((b) => b.reject(err));
      throw err;
    }
    return batch.length;
  }
}
