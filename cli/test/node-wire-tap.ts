import { decodeExchange, decodeExchangeAnswer, EXCHANGE_PATH } from '@hexedge/protocol';
import diagnostics from 'node:diagnostics_channel';

/**
 * What the gateway sent to edge nodes and what they answered, byte for byte, read from undici's
 * diagnostics channels (the gateway's node client is an undici Pool): binary-forwarding and
 * forward-mac.security look at the wire with it. Forwards the gateway coalesced into an exchange are
 * read out of it, so a test sees every forward whichever way it went.
 */

/** One request to a node's `/v2/models/` routes, in the order sent. */
export interface NodeWire {
  path: string;
  origin: string;
  /** The request's header lines as undici holds them (name, value, name, value… or `name: value`). */
  requestHeaders: string[];
  body: Buffer[];
  /** The answer's header lines, lower-cased (name, value, …). */
  responseHeaders: string[];
  /** The answer's body, in chunks. */
  answer: Buffer[];
}

/** Header lines (name, value, …) of a part's headers. */
const linesOf = (headers: Record<string, string>) => Object.entries(headers).flat();

/**
 * The forwards an exchange (`POST /v2/exchange`, the gateway's coalescing) carried, one wire each, as
 * if each had gone alone: its path, headers and body, and its part of the answer.
 */
function partsOf(wire: NodeWire): NodeWire[] {
  const parts = decodeExchange(Buffer.concat(wire.body));
  let answers: ReturnType<typeof decodeExchangeAnswer> | undefined;
  try {
    answers = decodeExchangeAnswer(Buffer.concat(wire.answer), parts.length);
  } catch {
    answers = undefined; // not answered (yet): the parts without their answers
  }
  return parts.map((p, i) => ({
    path: p.path,
    origin: wire.origin,
    requestHeaders: linesOf(p.headers),
    body: [Buffer.from(p.body)],
    responseHeaders: answers ? linesOf(answers[i]!.headers) : [],
    answer: answers ? [Buffer.from(answers[i]!.body)] : [],
  }));
}

/**
 * Starts recording every request to a node's `/v2/models/` routes, those that rode an exchange
 * included (one wire per forward, in the exchange's place); `stop()` unsubscribes.
 */
export function tapNodeWires(): { readonly wires: NodeWire[]; stop(): void } {
  const recorded: NodeWire[] = [];
  const byRequest = new Map<object, NodeWire>();
  const onCreate = ({ request }: { request: { origin: string; path: string; headers: unknown } }) => {
    if (!request.path.startsWith('/v2/models/') && request.path !== EXCHANGE_PATH) return;
    const headers = Array.isArray(request.headers)
      ? (request.headers as unknown[]).map(String)
      : String(request.headers).split('\r\n');
    const wire: NodeWire = {
      path: request.path,
      origin: String(request.origin),
      requestHeaders: headers,
      body: [],
      responseHeaders: [],
      answer: [],
    };
    recorded.push(wire);
    byRequest.set(request, wire);
  };
  const onChunkSent = ({ request, chunk }: { request: object; chunk: Uint8Array | string }) =>
    byRequest.get(request)?.body.push(Buffer.from(chunk as Uint8Array));
  const onHeaders = ({ request, response }: { request: object; response: { headers: Buffer[] } }) =>
    byRequest
      .get(request)
      ?.responseHeaders.push(...response.headers.map((h) => h.toString('latin1').toLowerCase()));
  const onChunkReceived = ({ request, chunk }: { request: object; chunk: Buffer }) =>
    byRequest.get(request)?.answer.push(Buffer.from(chunk));
  const channels = {
    'undici:request:create': onCreate,
    'undici:request:bodyChunkSent': onChunkSent,
    'undici:request:headers': onHeaders,
    'undici:request:bodyChunkReceived': onChunkReceived,
  };
  for (const [name, listener] of Object.entries(channels)) diagnostics.subscribe(name, listener as never);
  return {
    get wires() {
      return recorded.flatMap((w) => (w.path === EXCHANGE_PATH ? partsOf(w) : [w]));
    },
    stop: () => {
      for (const [name, listener] of Object.entries(channels))
        diagnostics.unsubscribe(name, listener as never);
    },
  };
}

/** A header's value in header lines (name, value, … or `name: value`); the name in any case. */
export function headerOf(lines: string[], name: string): string | undefined {
  const lower = name.toLowerCase();
  const at = lines.findIndex((l, i) => l.toLowerCase() === lower && i % 2 === 0);
  if (at >= 0) return lines[at + 1];
  return lines
    .find((l) => l.toLowerCase().startsWith(`${lower}:`))
    ?.slice(lower.length + 1)
    .trim();
}

/** Header lines (name, value, …) as an object with lower-case names. */
export function headersOf(lines: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < lines.length; i += 2) out[lines[i]!.toLowerCase()] = lines[i + 1]!;
  return out;
}
