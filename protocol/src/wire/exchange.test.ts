import { describe, expect, it } from 'vitest';
import { HexEdgeError } from '../errors.ts';
import { MAX_NODE_ANSWER_BYTES } from '../schemas/infer.ts';
import { decodeExchange, decodeExchangeAnswer } from './exchange-decode.ts';
import {
  encodeExchange,
  encodeExchangeAnswer,
  exchangePartBytes,
  MAX_EXCHANGE_ANSWER_BYTES,
  MAX_EXCHANGE_BYTES,
  MAX_EXCHANGE_PART_BODY_BYTES,
  MAX_EXCHANGE_PART_HEAD_BYTES,
  MAX_EXCHANGE_PART_HEADERS,
  MAX_EXCHANGE_PARTS,
} from './exchange.ts';

const PATH = '/v2/models/comfort-index/versions/1/infer';
const part = (i: number, body: string | Uint8Array = `{"id":"r${i}"}`) => ({
  path: PATH,
  headers: {
    'content-type': 'application/json',
    'x-hexedge-forwarder': 'abc',
    'x-hexedge-forward-mac': `mac-${i}`,
    traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
  },
  body,
});
const text = (b: Uint8Array) => new TextDecoder().decode(b);

/** The HexEdgeError a call throws (fails the test when it throws none or another kind). */
function refusal(f: () => unknown): HexEdgeError {
  try {
    f();
  } catch (err) {
    if (err instanceof HexEdgeError) return err;
    throw err;
  }
  throw new Error('expected a HexEdgeError');
}

describe('exchange codec', () => {
  it('round-trips parts in order: path, headers, body bytes (binary included)', () => {
    const binary = new Uint8Array([0, 1, 2, 255, 254, 10, 13]);
    const parts = [part(0), part(1, binary), { path: PATH, headers: {}, body: '' }];
    const bytes = encodeExchange(parts);
    const decoded = decodeExchange(bytes);
    expect(decoded.map((p) => ({ path: p.path, headers: { ...p.headers } }))).toEqual(
      parts.map((p) => ({ path: p.path, headers: p.headers })),
    );
    expect(text(decoded[0]!.body)).toBe('{"id":"r0"}');
    expect([...decoded[1]!.body]).toEqual([...binary]);
    expect(decoded[2]!.body.length).toBe(0);
    // The planner's size of each part adds up to the encoding (plus the magic and count).
    expect(6 + parts.reduce((n, p) => n + exchangePartBytes(p), 0)).toBe(bytes.length);
  });

  it('round-trips answers: status, headers and bodies, as many parts as were sent', () => {
    const answers: { status: number; headers: Record<string, string>; body: string | Uint8Array }[] = [
      { status: 200, headers: { 'content-type': 'application/json' }, body: '{"ok":1}' },
      { status: 409, headers: { 'retry-after': '1' }, body: new Uint8Array([1, 2, 3]) },
    ];
    const decoded = decodeExchangeAnswer(encodeExchangeAnswer(answers), 2);
    expect(decoded.map((p) => p.status)).toEqual([200, 409]);
    expect({ ...decoded[1]!.headers }).toEqual({ 'retry-after': '1' });
    expect(text(decoded[0]!.body)).toBe('{"ok":1}');
    expect(refusal(() => decodeExchangeAnswer(encodeExchangeAnswer(answers), 3)).message).toBe(
      'exchange answer holds 2 parts for 3 sent',
    );
  });

  it('holds the sender to every limit (RangeError naming the value)', () => {
    expect(() => encodeExchange([])).toThrow(/1 to 64 parts, not 0/);
    const many = Array.from({ length: MAX_EXCHANGE_PARTS + 1 }, (_, i) => part(i));
    expect(() => encodeExchange(many)).toThrow(`an exchange holds 1 to ${MAX_EXCHANGE_PARTS} parts, not 65`);
    expect(encodeExchange(many.slice(1)).length).toBeGreaterThan(0);
    const big = new Uint8Array(MAX_EXCHANGE_PART_BODY_BYTES + 1);
    expect(() => encodeExchange([part(0, big)])).toThrow(
      `exchange part 0: body of ${MAX_EXCHANGE_PART_BODY_BYTES + 1} bytes exceeds ${MAX_EXCHANGE_PART_BODY_BYTES}`,
    );
    expect(encodeExchange([part(0, big.subarray(1))]).length).toBeGreaterThan(MAX_EXCHANGE_PART_BODY_BYTES);
    const headers = Object.fromEntries(
      Array.from({ length: MAX_EXCHANGE_PART_HEADERS + 1 }, (_, i) => [`h${i}`, 'v']),
    );
    expect(() => encodeExchange([{ path: PATH, headers, body: '' }])).toThrow(/has 33 headers; at most 32/);
    const long = { path: PATH, headers: { 'x-long': 'a'.repeat(MAX_EXCHANGE_PART_HEAD_BYTES) }, body: '' };
    expect(() => encodeExchange([long])).toThrow(/head of \d+ bytes exceeds 16384/);
    expect(() => encodeExchange([{ path: PATH, headers: { 'X-Upper': 'v' }, body: '' }])).toThrow(
      /"X-Upper" is not a lower-case token/,
    );
    expect(() => encodeExchange([{ path: PATH, headers: { a: 'line\r\nbreak' }, body: '' }])).toThrow(
      /is not visible ASCII/,
    );
    expect(() => encodeExchange([{ path: '/v2/models/é/infer', headers: {}, body: '' }])).toThrow(
      /path "\/v2\/models\/é\/infer" is not visible ASCII/,
    );
    expect(() => encodeExchangeAnswer([{ status: 99, headers: {}, body: '' }])).toThrow(/status 99/);
    // Every part at its limits still fits the whole-exchange limit.
    const full = {
      path: '/'.padEnd(MAX_EXCHANGE_PART_HEAD_BYTES - MAX_EXCHANGE_PART_HEADERS * 3, 'p'),
      headers: Object.fromEntries(
        Array.from({ length: MAX_EXCHANGE_PART_HEADERS }, (_, i) => [`h${String(i).padStart(2, '0')}`, '']),
      ),
      body: new Uint8Array(MAX_EXCHANGE_PART_BODY_BYTES),
    };
    const largest = encodeExchange(Array.from({ length: MAX_EXCHANGE_PARTS }, () => full));
    expect(largest.length).toBeLessThanOrEqual(MAX_EXCHANGE_BYTES);
    expect(decodeExchange(largest)).toHaveLength(MAX_EXCHANGE_PARTS);
  });

  it('holds an answer to its limits: a part past MAX_NODE_ANSWER_BYTES, the whole past MAX_EXCHANGE_ANSWER_BYTES', () => {
    const huge = new Uint8Array(MAX_NODE_ANSWER_BYTES + 1);
    expect(() => encodeExchangeAnswer([{ status: 200, headers: {}, body: huge }])).toThrow(
      `exchange answer part 0: body of ${MAX_NODE_ANSWER_BYTES + 1} bytes exceeds ${MAX_NODE_ANSWER_BYTES}`,
    );
    const half = { status: 200, headers: {}, body: huge.subarray(1) };
    expect(() => encodeExchangeAnswer([half, half, half])).toThrow(/exceeds 33554432$/);
    // A forged answer declaring a part past the per-answer limit is refused before its bytes are read.
    const two = encodeExchangeAnswer([{ status: 200, headers: {}, body: 'x' }]);
    new DataView(two.buffer).setUint32(2 + 4 + 2 + 1, MAX_NODE_ANSWER_BYTES + 1);
    const e = refusal(() => decodeExchangeAnswer(two, 1));
    expect(e.code).toBe('PAYLOAD_TOO_LARGE');
    expect(e.message).toBe(
      `exchange answer: part 0's body of 16777217 bytes exceeds ${MAX_NODE_ANSWER_BYTES}`,
    );
    expect(refusal(() => decodeExchangeAnswer(new Uint8Array(MAX_EXCHANGE_ANSWER_BYTES + 1), 1)).code).toBe(
      'PAYLOAD_TOO_LARGE',
    );
  });

  it('refuses a malformed exchange with one INVALID_REQUEST naming the fault', () => {
    const good = encodeExchange([part(0), part(1)]);
    const cases: [Uint8Array, RegExp][] = [
      [
        new Uint8Array(0),
        /^exchange ends early: the magic and part count needs 6 bytes at offset 0, 0 left$/,
      ],
      [new TextEncoder().encode('GET / HTTP/1.1'), /^exchange starts with 0x47455420, not "HXX1"$/],
      [good.subarray(0, good.length - 1), /^exchange ends early: part 1's body needs \d+ bytes/],
      [good.subarray(0, 20), /^exchange ends early: part 0's path needs 41 bytes at offset 8, 12 left$/],
      [Uint8Array.of(...good, 0), /^exchange has 1 bytes after its 2 parts$/],
      [Uint8Array.of(0x48, 0x58, 0x58, 0x31, 0, 0), /^exchange holds 0 parts; 1 to 64 allowed$/],
      [Uint8Array.of(0x48, 0x58, 0x58, 0x31, 0, 65), /^exchange holds 65 parts; 1 to 64 allowed$/],
      [Uint8Array.of(0x48, 0x58, 0x58, 0x31, 0, 1, 0, 1, 0x0a), /part 0's path holds byte 0x0a at offset 8/],
      [Uint8Array.of(0x48, 0x58, 0x58, 0x31, 0, 1, 0, 1, 0x2f, 33), /part 0 has 33 headers; at most 32/],
      [
        Uint8Array.of(0x48, 0x58, 0x58, 0x31, 0, 1, 0, 1, 0x2f, 2, 1, 0x61, 0, 0, 1, 0x61, 0, 0, 0, 0, 0, 0),
        /part 0 repeats header a$/,
      ],
      [Uint8Array.of(0x48, 0x58, 0x58, 0x31, 0, 1, 0, 1, 0x2f, 1, 1, 0x41, 0, 0), /header name "A" is not/],
    ];
    for (const [bytes, message] of cases) {
      const e = refusal(() => decodeExchange(bytes));
      expect(e.code, message.source).toBe('INVALID_REQUEST');
      expect(e.message).toMatch(message);
    }
  });

  it('refuses an exchange past its byte limits with PAYLOAD_TOO_LARGE before reading it', () => {
    const e = refusal(() => decodeExchange(new Uint8Array(MAX_EXCHANGE_BYTES + 1)));
    expect(e.code).toBe('PAYLOAD_TOO_LARGE');
    expect(e.message).toBe(`exchange of ${MAX_EXCHANGE_BYTES + 1} bytes exceeds ${MAX_EXCHANGE_BYTES}`);
    // A head declared past its limit is refused by its length, not read.
    const path = Uint8Array.of(0x48, 0x58, 0x58, 0x31, 0, 1, 0xff, 0xff);
    expect(refusal(() => decodeExchange(path)).message).toBe(
      "exchange: part 0's path of 65535 bytes exceeds 16384",
    );
  });

  it('survives garbage: every byte string decodes or is refused with a HexEdgeError, never anything else', () => {
    const good = encodeExchange([part(0), part(1, new Uint8Array([9, 9]))]);
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
    for (let n = 0; n < 2000; n++) {
      const bytes = Uint8Array.from(good);
      for (let k = 0; k < 1 + (n % 4); k++) bytes[random() % bytes.length] = random();
      const cut = n % 3 === 0 ? bytes.subarray(0, random() % bytes.length) : bytes;
      try {
        const parts = decodeExchange(cut);
        for (const p of parts) expect(typeof p.path).toBe('string');
      } catch (err) {
        expect(err).toBeInstanceOf(HexEdgeError);
      }
      try {
        decodeExchangeAnswer(cut, 2);
      } catch (err) {
        expect(err).toBeInstanceOf(HexEdgeError);
        expect(['NODE_FAILED', 'PAYLOAD_TOO_LARGE']).toContain((err as HexEdgeError).code);
      }
    }
  });
});
