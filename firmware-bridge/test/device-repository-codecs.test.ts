import { describe, expect, it } from 'vitest';
import { inProcessCodecRunner, JsCodec, type CodecRunnerFactory } from '../src/index.ts';
import { workerCodecRunner } from '../src/node/worker-codec-runner.ts';
import { DEFAULT_RECV_TIME, loadCodecDefinition } from './codecs/device-repository.ts';

/*
 * Codecs written for these tests in The Things Network device repository's format (codec .js +
 * definition .yaml with example vectors), run through JsCodec exactly as the examples say: every
 * uplinkDecoder example (with its normalizedOutput), downlinkEncoder example (bytes AND fPort) and
 * downlinkDecoder example, in the Node worker runner and in the in-process fallback.
 * `multisense` is the LARGE one: more than 200 KiB of source (generated lookup tables).
 */
const CODECS = ['climate-sensor', 'multisense'];
const RUNNERS: [string, CodecRunnerFactory][] = [
  ['worker thread', workerCodecRunner],
  ['in process', inProcessCodecRunner],
];

describe.each(RUNNERS)('TTN device-repository codecs (%s)', (_runnerName, runner) => {
  describe.each(CODECS)('%s', (name) => {
    const definition = loadCodecDefinition(name);

    it('uplinkDecoder examples: data, errors, warnings and normalizedOutput', async () => {
      const codec = new JsCodec({ source: definition.source, runner });
      expect(definition.uplinkDecoder?.examples.length).toBeGreaterThan(0);
      for (const example of definition.uplinkDecoder!.examples) {
        const { input, output } = example;
        const result = await codec.decode(Uint8Array.from(input.bytes), {
          fPort: input.fPort,
          recvTimeMs: Date.parse(input.recvTime ?? DEFAULT_RECV_TIME),
        });
        if (output.errors?.length) {
          expect(result.data, example.description).toBeUndefined();
          expect(result.errors, example.description).toEqual(output.errors.map((e) => `JS codec: ${e}`));
        } else {
          expect(result.errors, example.description).toEqual([]);
          expect(result.data, example.description).toEqual(output.data);
          expect(result.normalized, example.description).toEqual(example.normalizedOutput?.data);
        }
        expect(result.warnings, example.description).toEqual(output.warnings ?? []);
      }
      await codec.close();
    });

    it('downlinkEncoder examples: bytes and the fPort the codec chose', async () => {
      const codec = new JsCodec({ source: definition.source, runner });
      for (const example of definition.downlinkEncoder?.examples ?? []) {
        const { input, output } = example;
        const result = await codec.encode(input.data, { fPort: 1, recvTimeMs: 0 });
        if (output.errors?.length) {
          expect(result.data, example.description).toBeUndefined();
          expect(result.errors, example.description).toEqual(output.errors.map((e) => `JS codec: ${e}`));
        } else {
          expect(result.data, example.description).toEqual(Uint8Array.from(output.bytes!));
          expect(result.fPort, example.description).toBe(output.fPort);
          // The codec's decodeDownlink reads its own bytes back (TTN shows a downlink so).
          expect(result.decoded, example.description).toBeDefined();
        }
        expect(result.warnings, example.description).toEqual(output.warnings ?? []);
      }
      await codec.close();
    });

    it('downlinkDecoder examples', async () => {
      const codec = new JsCodec({ source: definition.source, runner });
      for (const example of definition.downlinkDecoder?.examples ?? []) {
        const { input, output } = example;
        const result = await codec.decodeDownlink(Uint8Array.from(input.bytes), { fPort: input.fPort });
        if (output.errors?.length)
          expect(result.errors, example.description).toEqual(output.errors.map((e) => `JS codec: ${e}`));
        else expect(result.data, example.description).toEqual(output.data);
        expect(result.warnings, example.description).toEqual(output.warnings ?? []);
      }
      await codec.close();
    });
  });
});

describe('the large codec under the default 100 ms budget', () => {
  it('is more than 200 KiB, and no uplink hits the budget: evaluating it is not part of a call', async () => {
    const { source, uplinkDecoder } = loadCodecDefinition('multisense');
    expect(source.length).toBeGreaterThan(200 * 1024);
    const codec = new JsCodec({ source });
    const example = uplinkDecoder!.examples[1]!;
    const times: number[] = [];
    for (let i = 0; i < 40; i++) {
      const started = performance.now();
      const result = await codec.decode(Uint8Array.from(example.input.bytes), {
        fPort: example.input.fPort,
        recvTimeMs: 0,
      });
      times.push(performance.now() - started);
      expect(result.data).toEqual(example.output.data);
    }
    times.sort((a, b) => a - b);
    // Not a benchmark (bench/src/suites/codec.ts is); a guard that calls no longer re-parse 220 KiB.
    expect(times[20]).toBeLessThan(14);
    await codec.close();
  });
});
