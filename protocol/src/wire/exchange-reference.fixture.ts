import { HexEdgeError } from '../errors.ts';
import { MAX_NODE_ANSWER_BYTES } from '../schemas/infer.ts';
import {
  ANSWER_MAGIC,
  EXCHANGE_FRAMING_BYTES,
  HEADER_FRAMING_BYTES,
  HEADER_NAME,
  MAX_EXCHANGE_ANSWER_BYTES,
  MAX_EXCHANGE_BYTES,
  MAX_EXCHANGE_PART_BODY_BYTES,
  MAX_EXCHANGE_PART_HEAD_BYTES,
  MAX_EXCHANGE_PART_HEADERS,
  MAX_EXCHANGE_PARTS,
  PART_FRAMING_BYTES,
  REQUEST_MAGIC,
  type ExchangeAnswerPart,
  type ExchangePart,
} from './exchange.ts';

/*
 * The exchange codec as it was before its allocation cuts (commit 8e11874: a byte array per header
 * name and value, field names built for every read), kept for exchange-equivalence.test.ts: the codec
 * must give the same bytes, parts and errors as this reference on valid and hostile input.
 */

const VISIBLE = /^[\t\x20-\x7e]*$/;
const encoder = new TextEncoder();

const toBytes = (body: string | Uint8Array) => (typeof body === 'string' ? encoder.encode(body) : body);

/** ASCII text to bytes; a non-ASCII or control character is the caller's bug (RangeError). */
function ascii(text: string, what: string): Uint8Array {
  if (!VISIBLE.test(text))
    throw new RangeError(`${what} ${JSON.stringify(text.slice(0, 64))} is not visible ASCII`);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

/** The framing of one part's head (first field, then headers); throws RangeError past a limit. */
function encodeHead(first: Uint8Array | number, headers: Record<string, string>, index: number) {
  const entries = Object.entries(headers).map(([name, value]) => {
    if (!HEADER_NAME.test(name))
      throw new RangeError(
        `exchange part ${index}: header name ${JSON.stringify(name.slice(0, 64))} is not a lower-case token`,
      );
    return [
      ascii(name, `exchange part ${index}: header name`),
      ascii(value, `exchange part ${index}: header ${name}`),
    ] as const;
  });
  if (entries.length > MAX_EXCHANGE_PART_HEADERS)
    throw new RangeError(
      `exchange part ${index} has ${entries.length} headers; at most ${MAX_EXCHANGE_PART_HEADERS}`,
    );
  const headBytes =
    (typeof first === 'number' ? 0 : first.length) +
    entries.reduce((n, [k, v]) => n + k.length + v.length, 0);
  if (headBytes > MAX_EXCHANGE_PART_HEAD_BYTES)
    throw new RangeError(
      `exchange part ${index}: head of ${headBytes} bytes exceeds ${MAX_EXCHANGE_PART_HEAD_BYTES}`,
    );
  return entries;
}

type Entries = ReturnType<typeof encodeHead>;

/** Writes parts after a magic: `first` is the path (requests) or the status (answers). */
function writeParts(
  magic: number[],
  parts: readonly { first: Uint8Array | number; entries: Entries; body: Uint8Array }[],
): Uint8Array {
  let size = EXCHANGE_FRAMING_BYTES;
  for (const p of parts) {
    size += PART_FRAMING_BYTES + (typeof p.first === 'number' ? 0 : p.first.length) + p.body.length;
    for (const [k, v] of p.entries) size += HEADER_FRAMING_BYTES + k.length + v.length;
  }
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  out.set(magic, 0);
  view.setUint16(4, parts.length);
  let at = EXCHANGE_FRAMING_BYTES;
  for (const p of parts) {
    if (typeof p.first === 'number') view.setUint16(at, p.first);
    else {
      view.setUint16(at, p.first.length);
      out.set(p.first, at + 2);
      at += p.first.length;
    }
    at += 2;
    out[at++] = p.entries.length;
    for (const [k, v] of p.entries) {
      out[at++] = k.length;
      out.set(k, at);
      at += k.length;
      view.setUint16(at, v.length);
      out.set(v, at + 2);
      at += 2 + v.length;
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
export function referenceEncodeExchange(
  parts: readonly { path: string; headers: Record<string, string>; body: string | Uint8Array }[],
): Uint8Array {
  if (parts.length === 0 || parts.length > MAX_EXCHANGE_PARTS)
    throw new RangeError(`an exchange holds 1 to ${MAX_EXCHANGE_PARTS} parts, not ${parts.length}`);
  let total = EXCHANGE_FRAMING_BYTES;
  const framed = parts.map((p, i) => {
    const path = ascii(p.path, `exchange part ${i}: path`);
    const body = toBytes(p.body);
    if (body.length > MAX_EXCHANGE_PART_BODY_BYTES)
      throw new RangeError(
        `exchange part ${i}: body of ${body.length} bytes exceeds ${MAX_EXCHANGE_PART_BODY_BYTES}`,
      );
    const entries = encodeHead(path, p.headers, i);
    total += PART_FRAMING_BYTES + path.length + body.length;
    for (const [k, v] of entries) total += HEADER_FRAMING_BYTES + k.length + v.length;
    return { first: path, entries, body };
  });
  if (total > MAX_EXCHANGE_BYTES)
    throw new RangeError(`an exchange of ${total} bytes exceeds ${MAX_EXCHANGE_BYTES}`);
  return writeParts(REQUEST_MAGIC, framed);
}

/**
 * An exchange's answer. The parts keep their order; every part's body must fit MAX_NODE_ANSWER_BYTES
 * and all of them MAX_EXCHANGE_ANSWER_BYTES (the node's builder, exchange-answer in edge-node, replaces
 * those that do not with errors first). Throws RangeError otherwise.
 */
export function referenceEncodeExchangeAnswer(
  parts: readonly { status: number; headers: Record<string, string>; body: string | Uint8Array }[],
): Uint8Array {
  if (parts.length === 0 || parts.length > MAX_EXCHANGE_PARTS)
    throw new RangeError(`an exchange answer holds 1 to ${MAX_EXCHANGE_PARTS} parts, not ${parts.length}`);
  let total = EXCHANGE_FRAMING_BYTES;
  const framed = parts.map((p, i) => {
    if (!Number.isInteger(p.status) || p.status < 100 || p.status > 599)
      throw new RangeError(`exchange answer part ${i}: status ${p.status} is not an HTTP status`);
    const body = toBytes(p.body);
    if (body.length > MAX_NODE_ANSWER_BYTES)
      throw new RangeError(
        `exchange answer part ${i}: body of ${body.length} bytes exceeds ${MAX_NODE_ANSWER_BYTES}`,
      );
    const entries = encodeHead(p.status, p.headers, i);
    total += PART_FRAMING_BYTES + body.length;
    for (const [k, v] of entries) total += HEADER_FRAMING_BYTES + k.length + v.length;
    return { first: p.status, entries, body };
  });
  if (total > MAX_EXCHANGE_ANSWER_BYTES)
    throw new RangeError(`an exchange answer of ${total} bytes exceeds ${MAX_EXCHANGE_ANSWER_BYTES}`);
  return writeParts(ANSWER_MAGIC, framed);
}

/** Reads framing off a buffer; every fault is a HexEdgeError naming where and what. */
class Reader {
  at = 0;
  readonly bytes: Uint8Array;
  readonly what: string;
  readonly #view: DataView;
  constructor(bytes: Uint8Array, what: string) {
    this.bytes = bytes;
    this.what = what;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  need(n: number, field: string): void {
    if (this.at + n > this.bytes.length)
      throw new HexEdgeError(
        'INVALID_REQUEST',
        `${this.what} ends early: ${field} needs ${n} bytes at offset ${this.at}, ${this.bytes.length - this.at} left`,
      );
  }
  u8(field: string): number {
    this.need(1, field);
    return this.bytes[this.at++]!;
  }
  u16(field: string): number {
    this.need(2, field);
    const v = this.#view.getUint16(this.at);
    this.at += 2;
    return v;
  }
  u32(field: string): number {
    this.need(4, field);
    const v = this.#view.getUint32(this.at);
    this.at += 4;
    return v;
  }
  text(n: number, field: string): string {
    this.need(n, field);
    let s = '';
    for (let i = this.at; i < this.at + n; i++) {
      const c = this.bytes[i]!;
      if (c !== 0x09 && (c < 0x20 || c > 0x7e))
        throw new HexEdgeError(
          'INVALID_REQUEST',
          `${this.what}: ${field} holds byte 0x${c.toString(16).padStart(2, '0')} at offset ${i}; visible ASCII only`,
        );
      s += String.fromCharCode(c);
    }
    this.at += n;
    return s;
  }
  slice(n: number, field: string): Uint8Array {
    this.need(n, field);
    const out = this.bytes.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }
}

function readMagic(r: Reader, magic: number[]): number {
  r.need(EXCHANGE_FRAMING_BYTES, 'the magic and part count');
  if (magic.some((b, i) => r.bytes[i] !== b))
    throw new HexEdgeError(
      'INVALID_REQUEST',
      `${r.what} starts with 0x${Array.from(r.bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join('')}, not "${String.fromCharCode(...magic)}"`,
    );
  r.at = 4;
  const count = r.u16('the part count');
  if (count === 0 || count > MAX_EXCHANGE_PARTS)
    throw new HexEdgeError(
      'INVALID_REQUEST',
      `${r.what} holds ${count} parts; 1 to ${MAX_EXCHANGE_PARTS} allowed`,
    );
  return count;
}

function readHeaders(r: Reader, part: number, headBytes: number): Record<string, string> {
  const count = r.u8(`part ${part}'s header count`);
  if (count > MAX_EXCHANGE_PART_HEADERS)
    throw new HexEdgeError(
      'INVALID_REQUEST',
      `${r.what}: part ${part} has ${count} headers; at most ${MAX_EXCHANGE_PART_HEADERS}`,
    );
  const headers: Record<string, string> = Object.create(null) as Record<string, string>;
  for (let h = 0; h < count; h++) {
    const name = r.text(r.u8(`part ${part}'s header ${h} name length`), `part ${part}'s header ${h} name`);
    if (!HEADER_NAME.test(name))
      throw new HexEdgeError(
        'INVALID_REQUEST',
        `${r.what}: part ${part}'s header name ${JSON.stringify(name.slice(0, 64))} is not a lower-case token`,
      );
    if (name in headers)
      throw new HexEdgeError('INVALID_REQUEST', `${r.what}: part ${part} repeats header ${name}`);
    const valueBytes = r.u16(`part ${part}'s header ${name} length`);
    headBytes += name.length + valueBytes;
    if (headBytes > MAX_EXCHANGE_PART_HEAD_BYTES)
      throw new HexEdgeError(
        'PAYLOAD_TOO_LARGE',
        `${r.what}: part ${part}'s head exceeds ${MAX_EXCHANGE_PART_HEAD_BYTES} bytes`,
      );
    headers[name] = r.text(valueBytes, `part ${part}'s header ${name}`);
  }
  return headers;
}

/**
 * The parts of an exchange's body, bodies as views into `bytes`. A malformed exchange is one
 * HexEdgeError naming the fault (INVALID_REQUEST; PAYLOAD_TOO_LARGE past MAX_EXCHANGE_BYTES or a
 * part's head limit); a part's body past MAX_EXCHANGE_PART_BODY_BYTES is NOT refused here: the node
 * answers that part alone with its 413.
 */
export function referenceDecodeExchange(bytes: Uint8Array): ExchangePart[] {
  if (bytes.length > MAX_EXCHANGE_BYTES)
    throw new HexEdgeError(
      'PAYLOAD_TOO_LARGE',
      `exchange of ${bytes.length} bytes exceeds ${MAX_EXCHANGE_BYTES}`,
    );
  const r = new Reader(bytes, 'exchange');
  const count = readMagic(r, REQUEST_MAGIC);
  const parts: ExchangePart[] = [];
  for (let i = 0; i < count; i++) {
    const pathBytes = r.u16(`part ${i}'s path length`);
    if (pathBytes > MAX_EXCHANGE_PART_HEAD_BYTES)
      throw new HexEdgeError(
        'PAYLOAD_TOO_LARGE',
        `exchange: part ${i}'s path of ${pathBytes} bytes exceeds ${MAX_EXCHANGE_PART_HEAD_BYTES}`,
      );
    const path = r.text(pathBytes, `part ${i}'s path`);
    const headers = readHeaders(r, i, pathBytes);
    const body = r.slice(r.u32(`part ${i}'s body length`), `part ${i}'s body`);
    parts.push({ path, headers, body });
  }
  if (r.at !== bytes.length)
    throw new HexEdgeError(
      'INVALID_REQUEST',
      `exchange has ${bytes.length - r.at} bytes after its ${count} parts`,
    );
  return parts;
}

/**
 * The parts of an exchange's answer, `expectedParts` of them (as many as were sent). A malformed
 * answer is one HexEdgeError (NODE_FAILED naming the fault; PAYLOAD_TOO_LARGE past a limit).
 */
export function referenceDecodeExchangeAnswer(
  bytes: Uint8Array,
  expectedParts: number,
): ExchangeAnswerPart[] {
  if (bytes.length > MAX_EXCHANGE_ANSWER_BYTES)
    throw new HexEdgeError(
      'PAYLOAD_TOO_LARGE',
      `exchange answer of ${bytes.length} bytes exceeds ${MAX_EXCHANGE_ANSWER_BYTES}`,
    );
  try {
    const r = new Reader(bytes, 'exchange answer');
    const count = readMagic(r, ANSWER_MAGIC);
    if (count !== expectedParts)
      throw new HexEdgeError(
        'INVALID_REQUEST',
        `exchange answer holds ${count} parts for ${expectedParts} sent`,
      );
    const parts: ExchangeAnswerPart[] = [];
    for (let i = 0; i < count; i++) {
      const status = r.u16(`part ${i}'s status`);
      if (status < 100 || status > 599)
        throw new HexEdgeError(
          'INVALID_REQUEST',
          `exchange answer: part ${i}'s status ${status} is not an HTTP status`,
        );
      const headers = readHeaders(r, i, 0);
      const length = r.u32(`part ${i}'s body length`);
      if (length > MAX_NODE_ANSWER_BYTES)
        throw new HexEdgeError(
          'PAYLOAD_TOO_LARGE',
          `exchange answer: part ${i}'s body of ${length} bytes exceeds ${MAX_NODE_ANSWER_BYTES}`,
        );
      parts.push({ status, headers, body: r.slice(length, `part ${i}'s body`) });
    }
    if (r.at !== bytes.length)
      throw new HexEdgeError(
        'INVALID_REQUEST',
        `exchange answer has ${bytes.length - r.at} bytes after its ${count} parts`,
      );
    return parts;
  } catch (err) {
    // The node's fault, not the caller's: a framing error in an answer reads as a failed node.
    if (err instanceof HexEdgeError && err.code === 'INVALID_REQUEST')
      throw new HexEdgeError('NODE_FAILED', err.message);
    throw err;
  }
}
