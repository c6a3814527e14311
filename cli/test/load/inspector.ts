/**
 * A DevTools-protocol session on a process started with `--inspect-port=0`: SIGUSR1 opens its
 * inspector on a free port (it prints `Debugger listening on ws://…`, read from `lines`); a process
 * whose inspector is already open is not signalled again. Loopback only.
 */
export interface InspectorSession {
  call(method: string, params?: object): Promise<unknown>;
  close(): void;
}

export async function openInspector(options: {
  pid: number;
  lines: readonly string[];
}): Promise<InspectorSession> {
  const listening = () =>
    options.lines.map((l) => /Debugger listening on (ws:\/\/\S+)/.exec(l)?.[1]).find(Boolean);
  if (!listening()) process.kill(options.pid, 'SIGUSR1');
  const deadline = Date.now() + 10_000;
  let url: string | undefined;
  while (!(url = listening())) {
    if (Date.now() > deadline) throw new Error(`process ${options.pid} opened no inspector within 10 s`);
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
  return {
    call: (method, params = {}) =>
      new Promise<unknown>((resolve) => {
        waiting.set(++nextId, resolve);
        socket.send(JSON.stringify({ id: nextId, method, params }));
      }),
    close: () => socket.close(),
  };
}
