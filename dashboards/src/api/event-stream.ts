import { ApiError, apiBase } from './client.ts';

/** One event as the gateway sends it (the JSON in each SSE `data:` line). */
export interface StreamEvent<T = Record<string, unknown>> {
  id: number;
  type: string;
  atMs: number;
  data: T;
}

export type StreamStatus = { state: 'connecting' | 'live' } | { state: 'refused' | 'down'; message: string };

/** Waits before reconnecting after a drop: what the gateway's `retry:` field asks. */
const RECONNECT_MS = 2_000;

/**
 * Incremental `text/event-stream` parser: feed it chunks, it returns complete events' `data`. Only
 * `data:` lines matter here (the gateway puts type and id inside the JSON too); comments are skipped.
 */
export function sseParser(): (chunk: string) => string[] {
  let buffer = '';
  let data: string[] = [];
  return (chunk) => {
    buffer += chunk;
    const out: string[] = [];
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl).replace(/\r$/, '');
      buffer = buffer.slice(nl + 1);
      if (line === '') {
        if (data.length) out.push(data.join('\n'));
        data = [];
      } else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
    }
    return out;
  };
}

/**
 * Opens an SSE stream with fetch (EventSource cannot send an Authorization header), reconnecting
 * after drops and skipping events already seen. A refusal (401/403) stops it: retrying will not help.
 * Returns the function that closes it.
 */
export function openEventStream(options: { path: string; key?: string; onEvent: (e: StreamEvent) => void; onStatus?: (s: StreamStatus) => void }): () => void {
  const controller = new AbortController();
  let lastId = 0;
  const status = options.onStatus ?? (() => {});
  const run = async () => {
    while (!controller.signal.aborted) {
      status({ state: 'connecting' });
      try {
        const headers: Record<string, string> = { accept: 'text/event-stream' };
        if (options.key) headers.authorization = `Bearer ${options.key}`;
        const res = await fetch(`${apiBase()}${options.path}`, { headers, signal: controller.signal });
        if (!res.ok || !res.body) {
          const body = (await res.json().catch(() => null)) as { error?: { code?: string; message?: string } } | null;
          const err = new ApiError({ status: res.status, code: body?.error?.code ?? `HTTP_${res.status}`, message: body?.error?.message ?? `${res.status}` });
          if (err.isRefusal) return status({ state: 'refused', message: err.message });
          throw err;
        }
        status({ state: 'live' });
        const parse = sseParser();
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          for (const data of parse(value)) {
            const event = JSON.parse(data) as StreamEvent;
            if (event.id <= lastId) continue;
            lastId = event.id;
            options.onEvent(event);
          }
        }
        status({ state: 'down', message: 'stream ended; reconnecting' });
      } catch (err) {
        if (controller.signal.aborted) return;
        status({ state: 'down', message: `${(err as Error).message}; reconnecting` });
      }
      await new Promise((r) => setTimeout(r, RECONNECT_MS));
    }
  };
  void run();
  return () => controller.abort();
}
