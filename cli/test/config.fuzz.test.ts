import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify as toYaml } from 'yaml';
import { devConfigSchema } from '../src/config/dev-config.ts';
import { oracleServiceConfigSchema } from '@hexedge/coverage-oracle';
import { nodeConfigSchema } from '@hexedge/edge-node';
import { gatewayConfigSchema } from '@hexedge/gateway';
import { parseConfigText } from '../src/config/load-config.ts';
import {
  assertNoPollution,
  bounded,
  loadCorpus,
  maybeNasty,
  nastyJson,
  nastyNumber,
  nastyString,
  shown,
  toJsonText,
  withinMs,
} from '@hexedge/protocol/testing';

/*
 * Property: each config parser (node.yaml, gateway.yaml, oracle.yaml, `hexedge dev` flags) returns
 * a config or throws an Error whose message names the file — for any YAML text: the committed
 * examples with values swapped for nasty ones, random text, alias bombs, deep nesting, tags and
 * prototype keys — within a bounded time and without polluting Object.prototype.
 */

const examples = path.join(import.meta.dirname, '../examples');
const FILE = 'fuzz.yaml';
const parsers: Record<string, (text: string) => unknown> = {
  node: (text) => parseConfigText({ schema: nodeConfigSchema, text, fileName: FILE }),
  gateway: (text) => parseConfigText({ schema: gatewayConfigSchema, text, fileName: FILE }),
  oracle: (text) => parseConfigText({ schema: oracleServiceConfigSchema, text, fileName: FILE }),
};
const valid: Record<string, Record<string, unknown>> = {
  node: {
    location: { lat: 52.37, lng: 4.9 },
    gatewayUrl: 'http://127.0.0.1:8787',
    port: 8080,
    models: ['comfort-index@1'],
    peers: ['http://127.0.0.1:8081'],
  },
  gateway: {
    host: '127.0.0.1',
    port: 8787,
    heartbeatIntervalMs: 5000,
    mqtt: { url: 'mqtt://127.0.0.1:1883', protocolVersion: 5 },
  },
  oracle: {
    port: 8790,
    gatewayUrls: ['http://127.0.0.1:8787'],
    location: { lat: 52.37, lng: 4.9 },
    oracle: { epochMs: 3_600_000, samplingRate: 0.05 },
  },
};

function expectParsedOrNamed(parse: (text: string) => unknown, text: string) {
  try {
    parse(text);
  } catch (err) {
    expect(err, shown(text)).toBeInstanceOf(Error);
    expect(
      (err as Error).message.startsWith(`${FILE}: `),
      `${(err as Error).message.slice(0, 200)} — for ${shown(text)}`,
    ).toBe(true);
  }
  assertNoPollution();
}

/** A valid config with one key swapped for a nasty value (or a nasty key added). */
const mutated = (kind: string) =>
  fc
    .tuple(
      fc.constantFrom(...Object.keys(valid[kind]!), '__proto__', 'constructor', 'extra'),
      maybeNasty(fc.oneof(nastyNumber, nastyString), 1),
    )
    .map(([key, value]) => {
      const text = toJsonText({ ...valid[kind], [key]: value });
      // JSON is YAML; half the time write it as block YAML instead.
      try {
        return Math.abs(text.length % 2) === 0 ? text : toYaml(JSON.parse(text));
      } catch {
        return text;
      }
    });

const yamlNasties = fc.constantFrom(
  'a: &a [1,1,1,1,1,1,1,1,1]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n',
  '['.repeat(20_000) + ']'.repeat(20_000),
  '{a: '.repeat(5_000) + '1' + '}'.repeat(5_000),
  'port: !!js/function "function(){ return process.exit(1) }"\n',
  'port: !!binary aGVsbG8=\n',
  '__proto__: {polluted: true}\nport: 1\n',
  'constructor: {prototype: {polluted: true}}\n',
  '<<: {polluted: true}\nport: 1\n',
  'port: 0x1F90\n',
  'port: .inf\n',
  'port: .nan\n',
  'port: 1e309\n',
  'port: 08080\n',
  '? [a, b]\n: 1\n',
  '%YAML 1.1\n---\nport: 1\n',
  '---\nport: 1\n---\nport: 2\n',
  '\ufeffport: 1\n',
  'port: "\\ud800"\n',
  '',
  '~',
  '[]',
  '"just a string"',
  '\t\tport: 1',
);

describe('fuzz: config files', () => {
  for (const kind of Object.keys(parsers)) {
    it(`${kind} config: a config or an error naming the file, for any text`, async () => {
      const parse = parsers[kind]!;
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(mutated(kind), yamlNasties, fc.string({ maxLength: 80 }), nastyJson.map(toJsonText)),
          async (text) => {
            await withinMs(2_000, `${kind} config`, async () => expectParsedOrNamed(parse, text));
          },
        ),
        bounded(150, 1_500),
      );
    });
  }

  it('the committed examples still parse', () => {
    expect(() =>
      parseConfigText({
        schema: nodeConfigSchema,
        text: readFileSync(path.join(examples, 'node.yaml'), 'utf8'),
        fileName: 'node.yaml',
      }),
    ).not.toThrow();
  });

  it('`hexedge dev` flags: the schema parses or refuses any value without throwing', () => {
    fc.assert(
      fc.property(
        fc.record(
          {
            port: nastyNumber,
            mqttPort: nastyNumber,
            host: nastyString,
            nodes: nastyNumber,
            dataDir: nastyString,
            apiKey: nastyString,
            heartbeatMs: nastyNumber,
            simSpeed: nastyNumber,
          },
          { requiredKeys: [] },
        ),
        (flags) => {
          const result = devConfigSchema.safeParse(flags);
          if (result.success) {
            expect(
              Number.isInteger(result.data.port) && result.data.port >= 0 && result.data.port <= 65535,
            ).toBe(true);
            expect(result.data.nodes >= 1 && result.data.nodes <= 12).toBe(true);
          }
          assertNoPollution();
        },
      ),
      bounded(500, 1_000),
    );
  });

  it('replays the corpus of nastiest config files', async () => {
    for (const c of loadCorpus(new URL('./corpus/configs.json', import.meta.url))) {
      await withinMs(2_000, c.name, async () => expectParsedOrNamed(parsers[c.kind as string]!, c.text!));
    }
  });
});
