import { HexEdgeError } from './errors.ts';

/** Statuses whose responses carry no body (`new Response` refuses one for them). */
const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);

/**
 * Reads a response body, refusing one past `maxBytes` as soon as it shows (by its content-length, or
 * while streaming): the rest is cancelled, not buffered. A node or peer that answers with an endless
 * or giant body then costs at most `maxBytes` of memory and the time to read them. Runtime-neutral
 * (Web streams), for every answer read from a party that may be hostile.
 */
export async function readBoundedBody(
  response: { headers: Headers; body: ReadableStream<Uint8Array> | null },
  options: { maxBytes: number; what: string },
): Promise<Uint8Array> {
  const { maxBytes, what } = options;
  const tooLarge = () => new HexEdgeError('PAYLOAD_TOO_LARGE', `${what} exceeds ${maxBytes} bytes`);
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel().catch(() => {});
    throw tooLarge();
  }
  if (!response.body) return new Uint8Array(0);
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => {});
      throw tooLarge();
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/**
 * `fetch` whose answers are read through readBoundedBody: a response past `maxBytes` rejects with
 * PAYLOAD_TOO_LARGE. The answer handed back is already complete in memory.
 */
export function fetchWithAnswerLimit(
  fetchFn: typeof fetch,
  options: { maxBytes: number; what: string },
): typeof fetch {
  return async (input, init) => {
    const res = await fetchFn(input, init);
    const bytes = await readBoundedBody(res, options);
    return new Response(NULL_BODY_STATUSES.has(res.status) ? null : (bytes as Uint8Array<ArrayBuffer>), {
      status: res.status,
      statusText: res.statusText,
      headers: res.headers,
    });
  };
}
