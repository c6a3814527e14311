import { MAX_CONSOLE_LINE_CHARS, MAX_CONSOLE_LINES_PER_CALL } from './codec-runner.ts';

/**
 * Evaluated in the codec's QuickJS context BEFORE the codec's source, so it holds JSON, Date and
 * Array.prototype.slice as they were before the codec ran (a codec that redefines them changes only
 * its own output, which the host checks anyway). It installs `console` and returns `{ call, drain }`,
 * kept as handles by the host: nothing of it is reachable from the codec by name.
 *
 * Entry points are found by name at call time (`typeof decodeUplink`), so top-level `function`,
 * `var`, `let` and `const` declarations all count, as in TTN's and ChirpStack's runtimes.
 * The codec's input and output cross as JSON text: no host object ever enters the sandbox.
 */
export const SANDBOX_DRIVER = `(function (global) {
  'use strict';
  var parse = JSON.parse, stringify = JSON.stringify, NativeDate = Date, slice = Array.prototype.slice, isArray = Array.isArray;
  var MAX_LINES = ${MAX_CONSOLE_LINES_PER_CALL}, MAX_CHARS = ${MAX_CONSOLE_LINE_CHARS};
  var lines = [], dropped = 0;

  function show(v) {
    if (typeof v === 'string') return v;
    if (v instanceof Error) return v.name + ': ' + v.message;
    try { var s = stringify(v); return s === undefined ? String(v) : s; } catch (e) { return String(v); }
  }
  function writer(level) {
    return function () {
      if (lines.length >= MAX_LINES) { dropped++; return; }
      var parts = [];
      for (var i = 0; i < arguments.length && i < 16; i++) parts[parts.length] = show(arguments[i]);
      var text = parts.join(' ');
      if (text.length > MAX_CHARS) text = text.slice(0, MAX_CHARS) + '\\u2026 (' + text.length + ' characters)';
      lines[lines.length] = { level: level, message: text };
    };
  }
  global.console = { log: writer('info'), info: writer('info'), debug: writer('info'), warn: writer('warn'), error: writer('error') };

  function json(v) { var s = stringify(v === undefined ? null : v); return s === undefined ? 'null' : s; }
  /** ChirpStack codecs may return a Uint8Array; TTN's return arrays. */
  function toArray(v) { return v !== null && typeof v === 'object' && !isArray(v) && typeof v.length === 'number' ? slice.call(v) : v; }
  function failed(r) { return r !== null && typeof r === 'object' && isArray(r.errors) && r.errors.length > 0; }

  function uplink(input) {
    if (typeof decodeUplink === 'function') {
      var decoded = json(decodeUplink({ bytes: input.bytes, fPort: input.fPort, recvTime: new NativeDate(input.recvTimeMs), variables: {} }));
      var out = '{"style":"ttn","result":' + decoded;
      var r = parse(decoded);
      // TTN normalizes only a decode that succeeded; normalizeUplink gets its own copy of the data.
      if (typeof normalizeUplink === 'function' && r !== null && typeof r === 'object' && !failed(r) && r.data !== null && typeof r.data === 'object') {
        out += ',"normalized":' + json(normalizeUplink({ data: r.data }));
      }
      return out + '}';
    }
    if (typeof Decoder === 'function') return '{"style":"legacy","result":' + json(Decoder(input.bytes, input.fPort)) + '}';
    if (typeof Decode === 'function') return '{"style":"legacy","result":' + json(Decode(input.fPort, input.bytes, {})) + '}';
    return '{"style":"missing"}';
  }

  function encode(input) {
    if (typeof encodeDownlink === 'function') {
      var r = encodeDownlink({ data: input.data, fPort: input.fPort, variables: {} });
      if (r !== null && typeof r === 'object') r.bytes = toArray(r.bytes);
      var encoded = json(r);
      var out = '{"style":"ttn","result":' + encoded;
      r = parse(encoded);
      // TTN shows a downlink decoded back; a decoder that fails only adds a warning, the downlink stands.
      if (typeof decodeDownlink === 'function' && r !== null && typeof r === 'object' && !failed(r) && isArray(r.bytes)) {
        try {
          out += ',"decoded":' + json(decodeDownlink({ bytes: r.bytes, fPort: typeof r.fPort === 'number' ? r.fPort : input.fPort, variables: {} }));
        } catch (e) {
          out += ',"decoded":' + json({ errors: [show(e)] });
        }
      }
      return out + '}';
    }
    if (typeof Encoder === 'function') return '{"style":"legacy","result":' + json(toArray(Encoder(input.data, input.fPort))) + '}';
    if (typeof Encode === 'function') return '{"style":"legacy","result":' + json(toArray(Encode(input.fPort, input.data, {}))) + '}';
    return '{"style":"missing"}';
  }

  function downlinkDecode(input) {
    if (typeof decodeDownlink !== 'function') return '{"style":"missing"}';
    return '{"style":"ttn","result":' + json(decodeDownlink({ bytes: input.bytes, fPort: input.fPort, variables: {} })) + '}';
  }

  return {
    call: function (entry, inputJson) {
      // Runs the host's call path once before the first real call (V8 compiles WebAssembly lazily).
      if (entry === 'ping') return '{}';
      var input = parse(inputJson);
      if (entry === 'uplink') return uplink(input);
      if (entry === 'encodeDownlink') return encode(input);
      if (entry === 'decodeDownlink') return downlinkDecode(input);
      throw new TypeError('unknown codec entry ' + entry);
    },
    drain: function () {
      var out = lines;
      if (dropped > 0) out[out.length] = { level: 'warn', message: dropped + ' more console line(s) dropped: ' + MAX_LINES + ' per call' };
      lines = [];
      dropped = 0;
      return stringify(out);
    }
  };
})(this)`;
