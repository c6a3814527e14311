/**
 * Canonical JSON (canonical.ts: the same rules, the same bytes as `canonicalBytes`) written as UTF-8
 * straight into one reused buffer, for the hot paths that only hash it (batch leaves: every receipt
 * and report a verifier checks). No string per value, no joined text, no copy of it as UTF-8: the
 * building and collection of those strings was most of a leaf's cost. `canonicalBytes` stays the
 * spec; canonical-utf8.test.ts checks the two agree byte for byte on adversarial values.
 */
import { sortByCodeUnits } from './canonical.ts';

const encoder = new TextEncoder();
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** The shared buffer: grown by doubling (a leaf is a few KB; tensors may make it more). */
let shared: Uint8Array = new Uint8Array(16_384);
/** A buffer grown past this for one large value is not kept: one such report must not pin megabytes. */
const MAX_KEPT_BYTES = 1 << 20;
/** Set while the shared buffer is being written: a getter that serializes reentrantly gets its own. */
let busy = false;

class Writer {
  buf: Uint8Array;
  at = 0;

  constructor(buf: Uint8Array) {
    this.buf = buf;
  }

  ensure(bytes: number): void {
    if (this.at + bytes <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.at + bytes) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.at));
    this.buf = next;
  }

  byte(b: number): void {
    if (this.at >= this.buf.length) this.ensure(1);
    this.buf[this.at++] = b;
  }

  /** Text known to be ASCII (number forms, the caller's prefix). */
  ascii(text: string): void {
    this.ensure(text.length);
    const { buf } = this;
    let at = this.at;
    for (let i = 0; i < text.length; i++) buf[at++] = text.charCodeAt(i);
    this.at = at;
  }

  /** A JSON string: printable ASCII without quote or backslash is copied; anything else is JSON.stringify's text, encoded. */
  string(text: string): void {
    const n = text.length;
    this.ensure(n + 2);
    const { buf } = this;
    const start = this.at;
    let at = start;
    buf[at++] = QUOTE;
    for (let i = 0; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c < 0x20 || c > 0x7e || c === QUOTE || c === BACKSLASH) return this.escaped(text, start);
      buf[at++] = c;
    }
    buf[at++] = QUOTE;
    this.at = at;
  }

  /** JSON.stringify escapes controls, quote, backslash and lone surrogates, so its text is well-formed and its UTF-8 is canonicalBytes'. */
  escaped(text: string, start: number): void {
    this.at = start;
    const quoted = JSON.stringify(text);
    this.ensure(quoted.length * 3);
    this.at += encoder.encodeInto(quoted, this.buf.subarray(this.at)).written;
  }

  /** A safe integer's decimal digits: what `'' + value` gives for it (−0 as "0"). */
  integer(value: number): void {
    let v = value;
    if (v < 0) {
      this.byte(0x2d);
      v = -v;
    }
    let digits = 1;
    for (let p = 10; p <= v; p *= 10) digits++;
    this.ensure(digits);
    const { buf } = this;
    const end = this.at + digits;
    for (let i = end - 1; i >= this.at; i--) {
      const d = v % 10;
      buf[i] = 0x30 + d;
      v = (v - d) / 10;
    }
    this.at = end;
  }

  value(value: unknown): void {
    switch (typeof value) {
      case 'string':
        return this.string(value);
      case 'boolean':
        return this.ascii(value ? 'true' : 'false');
      case 'number':
        if (Number.isSafeInteger(value)) return this.integer(value);
        if (!Number.isFinite(value)) throw new TypeError(`canonicalJson: non-finite number ${value}`);
        return this.ascii('' + value);
      case 'object': {
        if (value === null) return this.ascii('null');
        if (Array.isArray(value)) {
          this.byte(0x5b);
          for (let i = 0; i < value.length; i++) {
            if (i > 0) this.byte(0x2c);
            const v: unknown = value[i];
            if (v === undefined) this.ascii('null');
            else this.value(v);
          }
          return this.byte(0x5d);
        }
        const record = value as Record<string, unknown>;
        const keys = sortByCodeUnits(Object.keys(record));
        this.byte(0x7b);
        let first = true;
        for (let i = 0; i < keys.length; i++) {
          const key = keys[i]!;
          const v = record[key];
          if (v === undefined) continue;
          if (!first) this.byte(0x2c);
          first = false;
          this.string(key);
          this.byte(0x3a);
          this.value(v);
        }
        return this.byte(0x7d);
      }
    }
    throw new TypeError(`canonicalJson: unsupported type ${typeof value}`);
  }
}

/**
 * `prefix` (ASCII) followed by `canonicalBytes(value)`, as a view of a shared buffer that the next
 * call overwrites: hash it (or copy it) before calling again. Throws as canonicalJson does.
 */
export function canonicalUtf8View(prefix: string, value: unknown): Uint8Array {
  if (busy) return written(new Writer(new Uint8Array(1024)), prefix, value);
  busy = true;
  try {
    const writer = new Writer(shared);
    const view = written(writer, prefix, value);
    if (writer.buf.length <= MAX_KEPT_BYTES) shared = writer.buf;
    return view;
  } finally {
    busy = false;
  }
}

function written(writer: Writer, prefix: string, value: unknown): Uint8Array {
  writer.ascii(prefix);
  writer.value(value);
  return writer.buf.subarray(0, writer.at);
}
