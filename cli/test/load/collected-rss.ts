/**
 * The RSS a process holds once its garbage is collected: the load test's leak check. A Node process's
 * RSS between collections includes the heap's uncollected garbage and reserved space, which rise and
 * fall with GC timing (measured: 408 → 543 → 518 MiB under load while the heap in use after a full
 * collection stayed at 71–77 MiB). Comparing collected RSS after warm-up and at the end separates what
 * requests leave behind from when the collector last ran.
 *
 * How: the process was started with `--inspect-port=0`; SIGUSR1 opens its inspector on a free port
 * (it prints `Debugger listening on ws://…`), and a DevTools-protocol session asks for a full
 * collection (HeapProfiler.collectGarbage) and reads process.memoryUsage(). Loopback only.
 */
export class CollectedRss {
  readonly #pid: number;
  readonly #lines: readonly string[];
  #opened = false;

  constructor(options: { pid: number; lines: readonly string[] }) {
    this.#pid = options.pid;
    this.#lines = options.lines;
  }

  /**
   * Full collection, then the process's RSS and heap in use, MiB. The session is closed again at
   * once: an attached DevTools session must not weigh on the load between two measurements.
   */
  async measure(): Promise<{ rssMiB: number; heapUsedMiB: number }> {
    const { call, socket } = await this.#open();
    try {
      await call('HeapProfiler.collectGarbage');
      const r = (await call('Runtime.evaluate', {
        expression: 'JSON.stringify(process.memoryUsage())',
      })) as { result: { value: string } };
      const m = JSON.parse(r.result.value) as { rss: number; heapUsed: number };
      return { rssMiB: m.rss / 2 ** 20, heapUsedMiB: m.heapUsed / 2 ** 20 };
    } finally {
      socket.close();
    }
  }

  async #open(): Promise<{
    call: (method: string, params?: object) => Promise<unknown>;
    socket: WebSocket;
  }> {
    if (!this.#opened) process.kill(this.#pid, 'SIGUSR1');
    this.#opened = true;
    const deadline = Date.now() + 10_000;
    let url: string | undefined;
    while (!(url = this.#lines.map((l) => /Debugger listening on (ws:\/\/\S+)/.exec(l)?.[1]).find(Boolean))) {
      if (Date.now() > deadline) throw new Error(`process ${this.#pid} opened no inspector within 10 s`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const socket = new WebSocket(url);
    await new Promise((resolve, reject) => {
      socket.addEventListener('open', resolve, { once: true });
      socket.addEventListener('error', () => reject(new Error(`inspector at ${url} refused`)), {
        once: true,
      });
    });
    let nextId = 0;
    const waiting = new Map<number, (result: unknown) => void>();
    socket.addEventListener('message', (e) => {
      const m = JSON.parse(String(e.data)) as { id?: number; result?: unknown };
      if (m.id !== undefined) waiting.get(m.id)?.(m.result);
    });
    const call = (method: string, params = {}) =>
      new Promise<unknown>((resolve) => {
        waiting.set(++nextId, resolve);
        socket.send(JSON.stringify({ id: nextId, method, params }));
      });
    return { call, socket };
  }
}
