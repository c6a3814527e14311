import type { CodecCallOutcome, CodecRunner, CodecRunnerFactory, SandboxLimits } from './codec-runner.ts';
import { CodecSandbox, type SandboxCreated } from './js-sandbox.ts';

/**
 * The fallback for runtimes without worker threads (Cloudflare Workers, where each request is its
 * own isolate anyway): QuickJS on the calling thread. The source is still evaluated once and the
 * context kept; the interrupt handler still stops a loop at the time limit. What it cannot do is stop
 * a codec stuck inside one long native operation (building huge strings): that blocks the calling
 * thread until the memory limit stops it. On Node the worker runner is used instead.
 */
export const inProcessCodecRunner: CodecRunnerFactory = (options) => new InProcessCodecRunner(options);

class InProcessCodecRunner implements CodecRunner {
  readonly #source: string;
  readonly #limits: SandboxLimits;
  #sandbox: Promise<SandboxCreated> | undefined;
  #closed = false;

  constructor(options: { source: string; limits: SandboxLimits }) {
    this.#source = options.source;
    this.#limits = options.limits;
  }

  async warm(): Promise<void> {
    if (this.#closed) return;
    this.#sandbox ??= CodecSandbox.create({ source: this.#source, limits: this.#limits });
    await this.#sandbox;
  }

  async call(request: Parameters<CodecRunner['call']>[0]): Promise<CodecCallOutcome> {
    if (this.#closed)
      return { ok: false, error: 'codec closed: its profile was replaced or deleted', logs: [] };
    // A source that fails to evaluate fails every call the same way, until the profile is replaced.
    this.#sandbox ??= CodecSandbox.create({ source: this.#source, limits: this.#limits });
    const created = await this.#sandbox;
    if (!created.ok) {
      if (created.fault === 'sandbox') this.#sandbox = undefined;
      return { ok: false, error: created.error, logs: [] };
    }
    const outcome = created.sandbox.call(request);
    if (!outcome.ok && outcome.fault) {
      // A loop or allocation stopped half-way may have left the codec's globals half-updated.
      created.sandbox.dispose();
      this.#sandbox = undefined;
    }
    return outcome;
  }

  async close(): Promise<void> {
    this.#closed = true;
    const created = await this.#sandbox;
    this.#sandbox = undefined;
    if (created?.ok) created.sandbox.dispose();
  }
}
