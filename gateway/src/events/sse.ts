import type { GatewayEvent } from './event-bus.ts';

/**
 * Proxies and load balancers close a connection that is silent for ~30–60 s (nginx's default
 * proxy_read_timeout is 60 s); a comment line every 15 s keeps an idle stream open.
 */
export const SSE_KEEPALIVE_MS = 15_000;
/** Events queued for a client that does not read; past this it is cut off rather than buffered forever. */
export const MAX_SSE_BACKLOG = 1_000;

const encoder = new TextEncoder();

/** One event in the `text/event-stream` format (data is one JSON line, so no field splitting is needed). */
export function formatSseEvent(event: GatewayEvent): string {
  const { id, type, atMs, data } = event;
  return `id: ${id}\nevent: ${type}\ndata: ${JSON.stringify({ id, type, atMs, data })}\n\n`;
}

export interface SseOptions {
  /** Sent first, so a new page starts with recent history instead of a blank. */
  replay: GatewayEvent[];
  /** Starts delivery; returns the function that stops it. */
  subscribe: (send: (event: GatewayEvent) => void) => () => void;
  /** The request's signal: the client went away. */
  signal?: AbortSignal;
  keepAliveMs?: number;
}

/** A server-sent-events response over a Web stream (runs on Node and Workers alike). */
export function sseResponse(options: SseOptions): Response {
  let stop = () => {};
  const stream = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        let closed = false;
        const close = () => {
          if (closed) return;
          closed = true;
          unsubscribe();
          clearInterval(keepAlive);
          options.signal?.removeEventListener('abort', close);
          try {
            controller.close();
          } catch {
            // already closed by the reader's cancel
          }
        };
        const write = (text: string) => {
          if (closed) return;
          if ((controller.desiredSize ?? 0) < -MAX_SSE_BACKLOG) return close();
          controller.enqueue(encoder.encode(text));
        };
        // `retry` tells EventSource-style clients how soon to reconnect after a drop.
        write(': hexedge events\nretry: 2000\n\n');
        for (const event of options.replay) write(formatSseEvent(event));
        const unsubscribe = options.subscribe((event) => write(formatSseEvent(event)));
        const keepAlive = setInterval(() => write(': keep-alive\n\n'), options.keepAliveMs ?? SSE_KEEPALIVE_MS);
        options.signal?.addEventListener('abort', close, { once: true });
        stop = close;
      },
      cancel() {
        stop();
      },
    },
    // Count events, not bytes, so MAX_SSE_BACKLOG means what it says.
    { highWaterMark: 1, size: () => 1 },
  );
  return new Response(stream, {
    headers: {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      // nginx buffers proxied responses unless told not to, which would hold events back.
      'x-accel-buffering': 'no',
    },
  });
}
