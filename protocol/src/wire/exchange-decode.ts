import { HexEdgeError } from '../errors.ts';
import { MAX_NODE_ANSWER_BYTES } from '../schemas/infer.ts';
import {
  ANSWER_MAGIC,
  EXCHANGE_FRAMING_BYTES,
  HEADER_NAME,
  MAX_EXCHANGE_BYTES,
  MAX_EXCHANGE_ANSWER_BYTES,
  MAX_EXCHANGE_PART_HEAD_BYTES,
  MAX_EXCHANGE_PART_HEADERS,
  MAX_EXCHANGE_PARTS,
  REQUEST_MAGIC,
  type ExchangeAnswerPart,
  type ExchangePart,
} from './exchange.ts';

/*
 * Reading exchanges and their answers (the framing is described in exchange.ts): every fault is one
 * HexEdgeError naming what and where, and nothing past a declared length is read before it is checked.
 */

/**
 * Reads framing off a buffer; every fault is a HexEdgeError naming where and what. The hot fields
 * (headers, bodies) are read through `has` first and name themselves only when they fail (the text
 * of a field's name was built for every field read, a good share of the gateway's allocations).
 */
class Reader {
  at = 0;
  /** The previous part's header names and values by place (`visible`'s `same`). */
  readonly names: string[] = [];
  readonly values: string[] = [];
  readonly bytes: Uint8Array;
  readonly what: string;
  readonly #view: DataView;
  constructor(bytes: Uint8Array, what: string) {
    this.bytes = bytes;
    this.what = what;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  /** Whether `n` more bytes are there. */
  has(n: number): boolean {
    return this.at + n <= this.bytes.length;
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
    for (let i = this.at; i < this.at + n; i++) {
      const c = this.bytes[i]!;
      if (c !== 0x09 && (c < 0x20 || c > 0x7e))
        throw new HexEdgeError(
          'INVALID_REQUEST',
          `${this.what}: ${field} holds byte 0x${c.toString(16).padStart(2, '0')} at offset ${i}; visible ASCII only`,
        );
    }
    return this.visible(n)!;
  }
  /**
   * The next `n` bytes as text when they are all there and visible ASCII (tab allowed), else undefined
   * and nothing read: the caller then reads them with `text`, which names the field in its refusal.
   * `same`: a string these bytes often spell (the previous part's header at that place): returned when
   * they spell it, so the parts of an exchange, which carry the same names and many of the same
   * values, share their strings instead of building each again.
   */
  visible(n: number, same?: string): string | undefined {
    const end = this.at + n;
    if (end > this.bytes.length) return undefined;
    const b = this.bytes;
    if (same !== undefined && same.length === n) {
      let i = 0;
      while (i < n && b[this.at + i] === same.charCodeAt(i)) i++;
      if (i === n) {
        this.at = end;
        return same;
      }
    }
    let s = '';
    for (let i = this.at; i < end; i++) {
      const c = b[i]!;
      if (c !== 0x09 && (c < 0x20 || c > 0x7e)) return undefined;
      s += String.fromCharCode(c);
    }
    this.at = end;
    return s;
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
  const count = r.has(1) ? r.bytes[r.at++]! : r.u8(`part ${part}'s header count`);
  if (count > MAX_EXCHANGE_PART_HEADERS)
    throw new HexEdgeError(
      'INVALID_REQUEST',
      `${r.what}: part ${part} has ${count} headers; at most ${MAX_EXCHANGE_PART_HEADERS}`,
    );
  const headers: Record<string, string> = Object.create(null) as Record<string, string>;
  for (let h = 0; h < count; h++) {
    // Each read names its field only when it fails (r.u8, r.u16 and r.text build the messages then).
    const nameBytes = r.has(1) ? r.bytes[r.at++]! : r.u8(`part ${part}'s header ${h} name length`);
    const name = r.visible(nameBytes, r.names[h]) ?? r.text(nameBytes, `part ${part}'s header ${h} name`);
    r.names[h] = name;
    if (!HEADER_NAME.test(name))
      throw new HexEdgeError(
        'INVALID_REQUEST',
        `${r.what}: part ${part}'s header name ${JSON.stringify(name.slice(0, 64))} is not a lower-case token`,
      );
    if (name in headers)
      throw new HexEdgeError('INVALID_REQUEST', `${r.what}: part ${part} repeats header ${name}`);
    let valueBytes: number;
    if (r.has(2)) {
      valueBytes = (r.bytes[r.at]! << 8) | r.bytes[r.at + 1]!;
      r.at += 2;
    } else valueBytes = r.u16(`part ${part}'s header ${name} length`);
    headBytes += name.length + valueBytes;
    if (headBytes > MAX_EXCHANGE_PART_HEAD_BYTES)
      throw new HexEdgeError(
        'PAYLOAD_TOO_LARGE',
        `${r.what}: part ${part}'s head exceeds ${MAX_EXCHANGE_PART_HEAD_BYTES} bytes`,
      );
    const value = r.visible(valueBytes, r.values[h]) ?? r.text(valueBytes, `part ${part}'s header ${name}`);
    r.values[h] = value;
    headers[name] = value;
  }
  return headers;
}

/** A u32 body length, named only when it is not there. */
function bodyLength(r: Reader, part: number): number {
  if (!r.has(4)) return r.u32(`part ${part}'s body length`);
  const b = r.bytes;
  const v = ((b[r.at]! << 24) >>> 0) + ((b[r.at + 1]! << 16) | (b[r.at + 2]! << 8) | b[r.at + 3]!);
  r.at += 4;
  return v;
}

/** A part's body of `length` bytes (a view), named only when it is not all there. */
function body(r: Reader, part: number, length: number): Uint8Array {
  if (!r.has(length)) r.need(length, `part ${part}'s body`);
  const out = r.bytes.subarray(r.at, r.at + length);
  r.at += length;
  return out;
}

/**
 * The parts of an exchange's body, bodies as views into `bytes`. A malformed exchange is one
 * HexEdgeError naming the fault (INVALID_REQUEST; PAYLOAD_TOO_LARGE past MAX_EXCHANGE_BYTES or a
 * part's head limit); a part's body past MAX_EXCHANGE_PART_BODY_BYTES is NOT refused here: the node
 * answers that part alone with its 413.
 */
export function decodeExchange(bytes: Uint8Array): ExchangePart[] {
  if (bytes.length > MAX_EXCHANGE_BYTES)
    throw new HexEdgeError(
      'PAYLOAD_TOO_LARGE',
      `exchange of ${bytes.length} bytes exceeds ${MAX_EXCHANGE_BYTES}`,
    );
  const r = new Reader(bytes, 'exchange');
  const count = readMagic(r, REQUEST_MAGIC);
  const parts: ExchangePart[] = [];
  for (let i = 0; i < count; i++) {
    let pathBytes: number;
    if (r.has(2)) {
      pathBytes = (r.bytes[r.at]! << 8) | r.bytes[r.at + 1]!;
      r.at += 2;
    } else pathBytes = r.u16(`part ${i}'s path length`);
    if (pathBytes > MAX_EXCHANGE_PART_HEAD_BYTES)
      throw new HexEdgeError(
        'PAYLOAD_TOO_LARGE',
        `exchange: part ${i}'s path of ${pathBytes} bytes exceeds ${MAX_EXCHANGE_PART_HEAD_BYTES}`,
      );
    const path = r.visible(pathBytes) ?? r.text(pathBytes, `part ${i}'s path`);
    const headers = readHeaders(r, i, pathBytes);
    parts.push({ path, headers, body: body(r, i, bodyLength(r, i)) });
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
export function decodeExchangeAnswer(bytes: Uint8Array, expectedParts: number): ExchangeAnswerPart[] {
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
      let status: number;
      if (r.has(2)) {
        status = (r.bytes[r.at]! << 8) | r.bytes[r.at + 1]!;
        r.at += 2;
      } else status = r.u16(`part ${i}'s status`);
      if (status < 100 || status > 599)
        throw new HexEdgeError(
          'INVALID_REQUEST',
          `exchange answer: part ${i}'s status ${status} is not an HTTP status`,
        );
      const headers = readHeaders(r, i, 0);
      const length = bodyLength(r, i);
      if (length > MAX_NODE_ANSWER_BYTES)
        throw new HexEdgeError(
          'PAYLOAD_TOO_LARGE',
          `exchange answer: part ${i}'s body of ${length} bytes exceeds ${MAX_NODE_ANSWER_BYTES}`,
        );
      parts.push({ status, headers, body: body(r, i, length) });
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
