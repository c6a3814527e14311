import {
  decodeExchange,
  encodeExchangeAnswer,
  EXCHANGE_ACCEPTED_HEADER,
  EXCHANGE_CONTENT_TYPE,
  FORWARD_MAC_ACCEPTED_HEADER,
  HexEdgeError,
  isHexEdgeError,
  MAX_EXCHANGE_ANSWER_BYTES,
  MAX_EXCHANGE_PART_BODY_BYTES,
  MAX_EXCHANGE_PARTS,
  MAX_NODE_ANSWER_BYTES,
  type ExchangePart,
} from '@hexedge/protocol';
import { HEADER_LENGTH } from './binary-extension.ts';
import { errorAnswer, exchangeAccepted, type HttpAnswer, type InferCall } from './infer-handler.ts';
import type { NodeMetrics } from './metrics.ts';

/**
 * The routes a part may take: OIP infer and predict only (a part cannot name the exchange itself, an
 * oracle route or anything else). Segments as hono's `:param` takes them: anything but `/`.
 */
const PART_PATH = /^\/v2\/models\/([^/?#]+)(?:\/versions\/([^/?#]+))?\/(infer|predict)$/;
/** A part's headers that belong to the exchange's framing, not to the part: never passed on. */
const FRAMING_HEADERS = new Set(['content-length', 'transfer-encoding', 'host', 'connection', 'expect']);
/** The headers of an answer that travel in its part (the rest are the exchange's own). */
const ANSWER_HEADERS = [
  'content-type',
  HEADER_LENGTH,
  'retry-after',
  FORWARD_MAC_ACCEPTED_HEADER,
  EXCHANGE_ACCEPTED_HEADER,
] as const;

export interface ExchangeHandlerOptions {
  /** The infer handler single requests get (`createInferHandler`): infer parts go straight to it. */
  infer(call: InferCall): Promise<HttpAnswer>;
  /**
   * The app for every other part (predict, %-escaped paths): a web Request through the same routes,
   * middleware and limits a single request takes.
   */
  fallback(request: Request): Response | Promise<Response>;
  /** The body limit of a single request; a part is held to it and to MAX_EXCHANGE_PART_BODY_BYTES. */
  maxBodyBytes: number;
  metrics?: NodeMetrics | undefined;
}

const refused = (err: unknown) => errorAnswer(err);
const encoder = new TextEncoder();
/**
 * The answer bodies' share of MAX_EXCHANGE_ANSWER_BYTES: the rest is kept for the parts' framing and
 * heads (the whitelisted headers above: ~200 bytes a part, 4 KiB kept).
 */
const ANSWER_BODIES_BYTES = MAX_EXCHANGE_ANSWER_BYTES - MAX_EXCHANGE_PARTS * 4096;

/** A web Response as a part's answer: status, the headers that matter, body bytes. */
async function answerOf(res: Response): Promise<HttpAnswer> {
  const headers: Record<string, string> = {};
  for (const name of ANSWER_HEADERS) {
    const v = res.headers.get(name);
    if (v !== null) headers[name] = v;
  }
  return { status: res.status, headers, body: new Uint8Array(await res.arrayBuffer()) };
}

/**
 * `POST /v2/exchange`: several forwards in one HTTP request (protocol's exchange.ts), each served as it
 * would be alone: an infer part by the very handler the single route calls, anything else through the
 * app. Every part gets every check a single request gets (forward MAC or signature, replay guard,
 * known callers, overload shedding, body limit, input checks) because it IS served as a single
 * request; a part that fails gets its own error answer and the others are served. Parts run
 * concurrently, so they meet in the model's dynamic batch. A malformed exchange throws one HexEdgeError
 * (400/413 naming the fault) and serves nothing.
 */
export function createExchangeHandler(o: ExchangeHandlerOptions): (bytes: Uint8Array) => Promise<HttpAnswer> {
  const partLimit = Math.min(o.maxBodyBytes, MAX_EXCHANGE_PART_BODY_BYTES);

  const servePart = async (part: ExchangePart, index: number): Promise<HttpAnswer> => {
    const route = PART_PATH.exec(part.path);
    if (!route)
      throw new HexEdgeError(
        'NOT_FOUND',
        `exchange part ${index}: ${JSON.stringify(part.path.slice(0, 200))} is not an infer or predict route`,
      );
    if (part.body.length > partLimit)
      throw new HexEdgeError(
        'PAYLOAD_TOO_LARGE',
        `exchange part ${index}: body of ${part.body.length} bytes exceeds ${partLimit}; send it alone`,
      );
    const headers = part.headers;
    for (const name of FRAMING_HEADERS) delete headers[name];
    if (route[3] === 'infer' && !part.path.includes('%')) {
      return o.infer({
        name: route[1]!,
        version: route[2],
        header: (name) => headers[name],
        readBody: () => Promise.resolve(part.body),
      });
    }
    // The URL parser resolves `..`, `.` and `\`: a path it would change could land on another route.
    const url = new URL(`http://exchange.invalid${part.path}`);
    if (url.pathname !== part.path)
      throw new HexEdgeError(
        'INVALID_REQUEST',
        `exchange part ${index}: path ${JSON.stringify(part.path.slice(0, 200))} is not in normal form`,
      );
    const body = part.body.slice();
    const request = new Request(url, {
      method: 'POST',
      headers: { ...headers, 'content-length': String(body.length) },
      body,
    });
    return answerOf(await o.fallback(request));
  };

  return async (bytes) => {
    let parts: ExchangePart[];
    try {
      parts = decodeExchange(bytes);
    } catch (err) {
      o.metrics?.exchanges.inc({ outcome: isHexEdgeError(err) ? err.code : 'INTERNAL' });
      throw err;
    }
    const answers = await Promise.all(parts.map((part, i) => servePart(part, i).catch(refused)));
    // The answer is held to MAX_EXCHANGE_ANSWER_BYTES (and each part to one answer's limit): a part that
    // does not fit gets a 413 naming why instead, so an honest node never makes the gateway drop it all.
    let total = 0;
    const fitted = answers.map((a, i) => {
      const body = typeof a.body === 'string' ? encoder.encode(a.body) : a.body;
      if (body.length <= MAX_NODE_ANSWER_BYTES && total + body.length <= ANSWER_BODIES_BYTES) {
        total += body.length;
        return { ...a, body };
      }
      return refused(
        new HexEdgeError(
          'PAYLOAD_TOO_LARGE',
          `exchange part ${i}: answer of ${body.length} bytes does not fit the exchange's answer; send it alone`,
        ),
      );
    });
    o.metrics?.exchanges.inc({ outcome: 'ok' });
    o.metrics?.exchangeParts.observe(parts.length);
    return {
      status: 200,
      headers: { 'content-type': EXCHANGE_CONTENT_TYPE, ...exchangeAccepted },
      body: encodeExchangeAnswer(fitted),
    };
  };
}
