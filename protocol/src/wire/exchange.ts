import { MAX_NODE_ANSWER_BYTES } from '../schemas/infer.ts';

/**
 * Exchanges: several forwards to one node in ONE HTTP request (`POST /v2/exchange`), answered in ONE
 * response. A gateway that already has requests in flight to a node sends those that queue up meanwhile
 * together, so they cost one HTTP round trip on both sides instead of one each; the node serves every
 * part exactly as it would serve it alone (the same handler, checks and limits) and a bad part fails
 * alone with its own error answer.
 *
 * Binary framing, big-endian:
 *   exchange = "HXX1" u16 partCount  part{partCount}
 *   part     = u16 pathBytes path   headers  u32 bodyBytes body
 *   answer   = "HXA1" u16 partCount  answerPart{partCount}
 *   answerPart = u16 status  headers  u32 bodyBytes body
 *   headers  = u8 count  (u8 nameBytes name  u16 valueBytes value){count}
 * Paths and header values are visible ASCII (values may hold spaces and tabs), header names lower-case
 * HTTP tokens, each at most once per part. A node advertises that it serves exchanges on its answers
 * (`EXCHANGE_ACCEPTED_HEADER: EXCHANGE_VERSION`), as it does forward MACs, so a gateway sends them only
 * to nodes that speak them.
 */
export const EXCHANGE_PATH = '/v2/exchange';
export const EXCHANGE_CONTENT_TYPE = 'application/x-hexedge-exchange';
export const EXCHANGE_ACCEPTED_HEADER = 'x-hexedge-exchange';
export const EXCHANGE_VERSION = 'v1';

/** Parts per exchange: two of a node's default dynamic batches (maxBatchSize 32), one running, one forming. */
export const MAX_EXCHANGE_PARTS = 64;
/** Headers per part: a forward carries ~8 (type, tensor header length, MAC or signature, hints). */
export const MAX_EXCHANGE_PART_HEADERS = 32;
/** A part's path and headers together: Node's default limit on one request's head (16 KiB). */
export const MAX_EXCHANGE_PART_HEAD_BYTES = 16 * 1024;
/**
 * A part's body: 128 KiB, the binary encoding of ~32 K FP32 values. Coalescing pays where the HTTP
 * cost per request is a large share of the work; a larger request costs its transfer, so it goes
 * alone. A larger part is refused alone (413), the others are served.
 */
export const MAX_EXCHANGE_PART_BODY_BYTES = 128 * 1024;
/** Bytes of framing per part besides its head and body (path length, header count, body length). */
export const PART_FRAMING_BYTES = 2 + 1 + 4;
/** Bytes of framing per header besides its name and value. */
export const HEADER_FRAMING_BYTES = 1 + 2;
export const EXCHANGE_FRAMING_BYTES = 4 + 2;
/**
 * A whole exchange: every part at its limits (~9 MiB), about one largest `/v1/infer` body
 * (MAX_INFER_BODY_BYTES): a node buffers no more for an exchange than for one request it takes anyway.
 */
export const MAX_EXCHANGE_BYTES =
  EXCHANGE_FRAMING_BYTES +
  MAX_EXCHANGE_PARTS *
    (PART_FRAMING_BYTES +
      MAX_EXCHANGE_PART_HEAD_BYTES +
      MAX_EXCHANGE_PART_HEADERS * HEADER_FRAMING_BYTES +
      MAX_EXCHANGE_PART_BODY_BYTES);
/**
 * A whole exchange's answer, as the gateway reads it: two largest single answers (MAX_NODE_ANSWER_BYTES
 * each), so an exchange in flight holds the gateway's memory to what two single forwards may. Each
 * part's answer is still held to MAX_NODE_ANSWER_BYTES alone; a node whose answers would not fit
 * answers the parts past the limit with a 413 each instead.
 */
export const MAX_EXCHANGE_ANSWER_BYTES = 2 * MAX_NODE_ANSWER_BYTES;

/** One forward inside an exchange: its route path (with the model), its headers and its body. */
export interface ExchangePart {
  path: string;
  headers: Record<string, string>;
  body: Uint8Array;
}

/** One part's answer: its status, the headers that matter (type, tensor header length, Retry-After, advertisements) and body. */
export interface ExchangeAnswerPart {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array;
}

export const REQUEST_MAGIC = [0x48, 0x58, 0x58, 0x31]; // "HXX1"
export const ANSWER_MAGIC = [0x48, 0x58, 0x41, 0x31]; // "HXA1"
export const HEADER_NAME = /^[a-z0-9!#$%&'*+.^_`|~-]{1,255}$/;
const VISIBLE = /^[\t\x20-\x7e]*$/;
const encoder = new TextEncoder();

const toBytes = (body: string | Uint8Array) => (typeof body === 'string' ? encoder.encode(body) : body);

const notAscii = (what: string, text: string) =>
  new RangeError(`${what} ${JSON.stringify(text.slice(0, 64))} is not visible ASCII`);

/**
 * A part's head checked (first field, then headers): its header names, and the bytes its headers take
 * framed. Throws RangeError past a limit. Visible ASCII is one byte a character, so the sizes come from
 * the strings' lengths and the writer copies the characters straight into the body: no bytes per
 * header are made (an exchange of 15 parts carried ~120 small arrays, a good share of the gateway's
 * allocations per request). What a message says is built only when it is thrown.
 */
function checkHead(firstBytes: number, headers: Record<string, string>, index: number) {
  const names = Object.keys(headers);
  let headBytes = firstBytes;
  let framed = 0;
  for (const name of names) {
    if (!HEADER_NAME.test(name))
      throw new RangeError(
        `exchange part ${index}: header name ${JSON.stringify(name.slice(0, 64))} is not a lower-case token`,
      );
    const value = headers[name]!;
    if (!VISIBLE.test(value)) throw notAscii(`exchange part ${index}: header ${name}`, value);
    headBytes += name.length + value.length;
    framed += HEADER_FRAMING_BYTES + name.length + value.length;
  }
  if (names.length > MAX_EXCHANGE_PART_HEADERS)
    throw new RangeError(
      `exchange part ${index} has ${names.length} headers; at most ${MAX_EXCHANGE_PART_HEADERS}`,
    );
  if (headBytes > MAX_EXCHANGE_PART_HEAD_BYTES)
    throw new RangeError(
      `exchange part ${index}: head of ${headBytes} bytes exceeds ${MAX_EXCHANGE_PART_HEAD_BYTES}`,
    );
  return { names, framed };
}

/** A part checked, ready to write: `first` is the path (requests) or the status (answers). */
interface CheckedPart {
  first: string | number;
  names: string[];
  headers: Record<string, string>;
  body: Uint8Array;
}

/** Visible ASCII (checked) written a byte per character; the offset after it. */
function writeAscii(out: Uint8Array, at: number, text: string): number {
  for (let i = 0; i < text.length; i++) out[at + i] = text.charCodeAt(i);
  return at + text.length;
}

/** Writes checked parts after a magic into a body of `size` bytes. */
function writeParts(magic: number[], parts: readonly CheckedPart[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  out.set(magic, 0);
  view.setUint16(4, parts.length);
  let at = EXCHANGE_FRAMING_BYTES;
  for (const p of parts) {
    if (typeof p.first === 'number') {
      view.setUint16(at, p.first);
      at += 2;
    } else {
      view.setUint16(at, p.first.length);
      at = writeAscii(out, at + 2, p.first);
    }
    out[at++] = p.names.length;
    for (const name of p.names) {
      const value = p.headers[name]!;
      out[at++] = name.length;
      at = writeAscii(out, at, name);
      view.setUint16(at, value.length);
      at = writeAscii(out, at + 2, value);
    }
    view.setUint32(at, p.body.length);
    out.set(p.body, at + 4);
    at += 4 + p.body.length;
  }
  return out;
}

/**
 * An exchange's body. Throws RangeError for what a sender must not send: no parts or too many, a head
 * or body past its limit, a non-ASCII path or header, or a whole exchange past MAX_EXCHANGE_BYTES.
 */
export function encodeExchange(
  parts: readonly { path: string; headers: Record<string, string>; body: string | Uint8Array }[],
): Uint8Array {
  if (parts.length === 0 || parts.length > MAX_EXCHANGE_PARTS)
    throw new RangeError(`an exchange holds 1 to ${MAX_EXCHANGE_PARTS} parts, not ${parts.length}`);
  let total = EXCHANGE_FRAMING_BYTES;
  const checked: CheckedPart[] = [];
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    if (!VISIBLE.test(p.path)) throw notAscii(`exchange part ${i}: path`, p.path);
    const body = toBytes(p.body);
    if (body.length > MAX_EXCHANGE_PART_BODY_BYTES)
      throw new RangeError(
        `exchange part ${i}: body of ${body.length} bytes exceeds ${MAX_EXCHANGE_PART_BODY_BYTES}`,
      );
    const { names, framed } = checkHead(p.path.length, p.headers, i);
    total += PART_FRAMING_BYTES + p.path.length + body.length + framed;
    checked.push({ first: p.path, names, headers: p.headers, body });
  }
  if (total > MAX_EXCHANGE_BYTES)
    throw new RangeError(`an exchange of ${total} bytes exceeds ${MAX_EXCHANGE_BYTES}`);
  return writeParts(REQUEST_MAGIC, checked, total);
}

/**
 * An exchange's answer. The parts keep their order; every part's body must fit MAX_NODE_ANSWER_BYTES
 * and all of them MAX_EXCHANGE_ANSWER_BYTES (the node's builder, exchange-answer in edge-node, replaces
 * those that do not with errors first). Throws RangeError otherwise.
 */
export function encodeExchangeAnswer(
  parts: readonly { status: number; headers: Record<string, string>; body: string | Uint8Array }[],
): Uint8Array {
  if (parts.length === 0 || parts.length > MAX_EXCHANGE_PARTS)
    throw new RangeError(`an exchange answer holds 1 to ${MAX_EXCHANGE_PARTS} parts, not ${parts.length}`);
  let total = EXCHANGE_FRAMING_BYTES;
  const checked: CheckedPart[] = [];
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    if (!Number.isInteger(p.status) || p.status < 100 || p.status > 599)
      throw new RangeError(`exchange answer part ${i}: status ${p.status} is not an HTTP status`);
    const body = toBytes(p.body);
    if (body.length > MAX_NODE_ANSWER_BYTES)
      throw new RangeError(
        `exchange answer part ${i}: body of ${body.length} bytes exceeds ${MAX_NODE_ANSWER_BYTES}`,
      );
    const { names, framed } = checkHead(0, p.headers, i);
    total += PART_FRAMING_BYTES + body.length + framed;
    checked.push({ first: p.status, names, headers: p.headers, body });
  }
  if (total > MAX_EXCHANGE_ANSWER_BYTES)
    throw new RangeError(`an exchange answer of ${total} bytes exceeds ${MAX_EXCHANGE_ANSWER_BYTES}`);
  return writeParts(ANSWER_MAGIC, checked, total);
}

/** Exchange body size bounds for callers that plan a batch: framing a part with this head and body adds. */
export function exchangePartBytes(part: {
  path: string;
  headers: Record<string, string>;
  body: string | Uint8Array;
}): number {
  let size =
    PART_FRAMING_BYTES +
    part.path.length +
    (typeof part.body === 'string' ? encoder.encode(part.body).length : part.body.length);
  for (const name in part.headers) size += HEADER_FRAMING_BYTES + name.length + part.headers[name]!.length;
  return size;
}
