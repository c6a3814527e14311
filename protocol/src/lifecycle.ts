/**
 * How every deployable's builder starts and stops its parts: each part, once started, registers how
 * to close it; the builder's AbortSignal (or `stop()`) closes them in reverse order of start, each
 * once, a failing close logged and skipped so the rest still close. `closed` settles when all are.
 */
export class Lifecycle {
  readonly #closers: Array<{ name: string; close: () => unknown }> = [];
  readonly #log: (message: string) => void;
  #stopping: Promise<void> | undefined;
  readonly closed: Promise<void>;
  #resolveClosed!: () => void;

  constructor(options: { signal?: AbortSignal; log?: (message: string) => void } = {}) {
    this.#log = options.log ?? (() => {});
    this.closed = new Promise((resolve) => (this.#resolveClosed = resolve));
    const { signal } = options;
    if (signal?.aborted) queueMicrotask(() => void this.stop());
    else signal?.addEventListener('abort', () => void this.stop(), { once: true });
  }

  get stopping(): boolean {
    return this.#stopping !== undefined;
  }

  /** Registers a started part's close; a part started after stop began is closed at once. */
  defer(name: string, close: () => unknown): void {
    if (this.#stopping) {
      void Promise.resolve()
        .then(close)
        .catch((err: Error) => this.#log(`shutdown of ${name}: ${err.message}`));
      return;
    }
    this.#closers.push({ name, close });
  }

  /** Closes every registered part in reverse order; later calls share the first. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      for (const { name, close } of this.#closers.reverse()) {
        try {
          await close();
        } catch (err) {
          this.#log(`shutdown of ${name}: ${(err as Error).message}`);
        }
      }
      this.#closers.length = 0;
      this.#resolveClosed();
    })();
    return this.#stopping;
  }

  /**
   * Runs a builder's start-up: on a failure the parts already started are closed (reverse order) and
   * the error is rethrown, so a half-started deployable never lingers.
   */
  async start<T>(build: () => Promise<T>): Promise<T> {
    try {
      return await build();
    } catch (err) {
      await this.stop();
      throw err;
    }
  }
}
