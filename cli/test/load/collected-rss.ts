import { openInspector } from './inspector.ts';

/**
 * The RSS a process holds once its garbage is collected: the load test's leak check. A Node process's
 * RSS between collections includes the heap's uncollected garbage and reserved space, which rise and
 * fall with GC timing (measured: 408 → 543 → 518 MiB under load while the heap in use after a full
 * collection stayed at 71–77 MiB). Comparing collected RSS after warm-up and at the end separates what
 * requests leave behind from when the collector last ran.
 *
 * How: a DevTools-protocol session (inspector.ts) asks for a full collection
 * (HeapProfiler.collectGarbage) and reads process.memoryUsage().
 */
export class CollectedRss {
  readonly #pid: number;
  readonly #lines: readonly string[];

  constructor(options: { pid: number; lines: readonly string[] }) {
    this.#pid = options.pid;
    this.#lines = options.lines;
  }

  /**
   * Full collection, then the process's RSS and heap in use, MiB. The session is closed again at
   * once: an attached DevTools session must not weigh on the load between two measurements.
   */
  async measure(): Promise<{ rssMiB: number; heapUsedMiB: number }> {
    const session = await openInspector({ pid: this.#pid, lines: this.#lines });
    const call = session.call;
    try {
      await call('HeapProfiler.collectGarbage');
      const r = (await call('Runtime.evaluate', {
        expression: 'JSON.stringify(process.memoryUsage())',
      })) as { result: { value: string } };
      const m = JSON.parse(r.result.value) as { rss: number; heapUsed: number };
      return { rssMiB: m.rss / 2 ** 20, heapUsedMiB: m.heapUsed / 2 ** 20 };
    } finally {
      session.close();
    }
  }
}
