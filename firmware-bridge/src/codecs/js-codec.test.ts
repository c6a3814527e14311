import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JsCodec } from './js-codec.ts';

const ctx = { fPort: 2, recvTimeMs: Date.parse('2025-01-15T10:00:00Z') };

/**
 * Written for these tests in the style of a TTN device-repository codec: function declarations at
 * top level, an undeclared global (sloppy mode), `errors` for a bad port, `recvTime` used.
 */
const VENDOR_CODEC = `
function decodeUplink(input) {
  lastPort = input.fPort; // undeclared on purpose: real vendor codecs do this
  if (input.fPort !== 2) return { errors: ['unknown FPort ' + input.fPort] };
  var b = input.bytes;
  var warnings = [];
  var battery = (b[0] << 8 | b[1]) / 1000;
  if (battery < 3.3) warnings.push('battery low');
  return {
    data: {
      batteryV: battery,
      temperatureC: ((b[2] << 24 >> 16) | b[3]) / 100,
      door: b[4] & 1 ? 'open' : 'closed',
      receivedHour: input.recvTime.getUTCHours()
    },
    warnings: warnings
  };
}
function encodeDownlink(input) {
  if (typeof input.data.classIndex !== 'number') return { errors: ['classIndex missing'] };
  return { bytes: [0xa0, input.data.classIndex, Math.round(input.data.confidence * 100)], fPort: 10 };
}
`;

describe('TTN-style JS codec in the QuickJS sandbox', () => {
  const codec = new JsCodec({ source: VENDOR_CODEC });

  it('decodes with decodeUplink, in sloppy mode, with recvTime as a Date', async () => {
    expect(await codec.decode(Uint8Array.of(0x0c, 0x80, 0xff, 0x38, 0x01), ctx)).toEqual({
      data: { batteryV: 3.2, temperatureC: -2, door: 'open', receivedHour: 10 },
      errors: [],
      warnings: ['battery low'],
    });
  });

  it("passes the codec's own errors through", async () => {
    expect(await codec.decode(Uint8Array.of(1), { ...ctx, fPort: 9 })).toEqual({
      errors: ['JS codec: unknown FPort 9'],
      warnings: [],
    });
  });

  it('encodes with encodeDownlink', async () => {
    expect((await codec.encode({ classIndex: 2, confidence: 0.87 }, ctx)).data).toEqual(
      Uint8Array.of(0xa0, 2, 87),
    );
    expect((await codec.encode({}, ctx)).errors).toEqual(['JS codec: classIndex missing']);
  });

  it('runs the legacy Decoder(bytes, port) and Encoder(object, port)', async () => {
    const legacy = new JsCodec({
      source:
        'function Decoder(bytes, port) { return { first: bytes[0], port: port }; }\nfunction Encoder(o, port) { return [o.v, port]; }',
    });
    expect((await legacy.decode(Uint8Array.of(7), ctx)).data).toEqual({ first: 7, port: 2 });
    expect((await legacy.encode({ v: 5 }, ctx)).data).toEqual(Uint8Array.of(5, 2));
  });

  it("keeps the codec's globals from one call to the next: the source is evaluated once", async () => {
    const counter = new JsCodec({
      source:
        'var loads = (typeof loads === "number" ? loads : 0) + 1; var n = 0;\nfunction decodeUplink(i) { n++; return { data: { n: n, loads: loads } }; }',
    });
    expect((await counter.decode(Uint8Array.of(), ctx)).data).toEqual({ n: 1, loads: 1 });
    expect((await counter.decode(Uint8Array.of(), ctx)).data).toEqual({ n: 2, loads: 1 });
    await counter.close();
  });

  it('stops a runaway loop at the time limit, fails that message only, and starts the codec afresh', async () => {
    const loop = new JsCodec({
      source:
        'var calls = 0;\nfunction decodeUplink(i) { calls++; if (i.bytes[0] === 1) { while (true) {} } return { data: { calls: calls } }; }',
      timeoutMs: 50,
    });
    expect((await loop.decode(Uint8Array.of(0), ctx)).data).toEqual({ calls: 1 });
    const started = performance.now();
    const stopped = await loop.decode(Uint8Array.of(1), ctx);
    expect(stopped.errors[0]).toMatch(/^JS codec: time limit of 50 ms exceeded/);
    expect(performance.now() - started).toBeLessThan(2_000);
    // Evaluated again after the fault: the half-run call's globals are gone.
    expect((await loop.decode(Uint8Array.of(0), ctx)).data).toEqual({ calls: 1 });
    await loop.close();
  });

  it('stops an allocation bomb at the memory limit and fails that message only', async () => {
    const bomb = new JsCodec({
      source:
        'function decodeUplink(i) { if (i.bytes[0] === 1) { var a = []; while (true) a.push([1, 2, 3, 4, 5, 6, 7, 8]); } return { data: { ok: true } }; }',
      memoryBytes: 4 << 20,
      timeoutMs: 5_000,
    });
    expect(await bomb.decode(Uint8Array.of(1), ctx)).toEqual({
      errors: ['JS codec: memory limit of 4194304 bytes exceeded'],
      warnings: [],
    });
    expect((await bomb.decode(Uint8Array.of(0), ctx)).data).toEqual({ ok: true });
  });

  it('reports throws, syntax errors, infinite recursion, a missing entry point and bad output', async () => {
    const cases: [string, RegExp][] = [
      ['function decodeUplink(i) { throw new Error("bad battery byte"); }', /Error: bad battery byte/],
      ['function decodeUplink(i) { return { data: ', /SyntaxError/],
      ['function decodeUplink(i) { return decodeUplink(i); }', /stack overflow/],
      ['var x = 1;', /defines no decodeUplink, Decoder or Decode function/],
      ['function decodeUplink(i) { return { data: 42 }; }', /data 42, not an object/],
      ['function Decoder(b) { return "text"; }', /Decoder returned "text", not an object/],
      ['function decodeUplink(i) { var o = {}; o.self = o; return { data: o }; }', /circular|cyclic/i],
    ];
    for (const [source, message] of cases) {
      const r = await new JsCodec({ source }).decode(Uint8Array.of(1), ctx);
      expect(r.data, source).toBeUndefined();
      expect(r.errors[0], source).toMatch(message);
    }
  });

  it('rejects encoder output that is not bytes', async () => {
    const bad = new JsCodec({ source: 'function encodeDownlink(i) { return { bytes: [256, -1] }; }' });
    expect((await bad.encode({}, ctx)).errors[0]).toMatch(/not an array of integers 0–255/);
  });

  it('never throws, whatever the bytes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 16 }), async (bytes) => {
        const r = await codec.decode(bytes, ctx);
        expect(r.data === undefined).toBe(r.errors.length > 0);
      }),
      { numRuns: 50 },
    );
  });
});
