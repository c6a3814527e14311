/**
 * The firmware bridge's JS codecs (TTN device-repository format) on a LARGE codec: `multisense` from
 * @hexedge/firmware-bridge/testing, 221 KiB of source (generated calibration and fault-text tables),
 * decoding one uplink after another, as the bridge does for one device.
 *
 * Peers, interleaved round by round in this process:
 * - the worker runner (Node's default): source evaluated once in the codec's worker thread;
 * - the in-process runner (the fallback without worker threads): source evaluated once, on this thread;
 * - the previous design, kept here as the anchor: a fresh QuickJS runtime per message that evaluates
 *   the whole source, then a driver (firmware-bridge's js-sandbox.ts before issue 18);
 * - plain JavaScript in node:vm, no sandbox: what the codec's own work costs.
 * Also the first decode (a new codec: cold, and after `warm()`), the event loop's delay while decoding,
 * and a `while (true)` codec's longest stall of the event loop. Times: ratio anchor/value (above 1 =
 * the row's subject wins).
 */
import { inProcessCodecRunner, JsCodec, type CodecRunnerFactory } from '@hexedge/firmware-bridge';
import { workerCodecRunner } from '@hexedge/firmware-bridge/node';
import { exampleCodecSource, MULTISENSE_UPLINK } from '@hexedge/firmware-bridge/testing';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import vm from 'node:vm';
import {
  newQuickJSWASMModule,
  shouldInterruptAfterDeadline,
  type QuickJSWASMModule,
} from 'quickjs-emscripten';
import { percentile, summarize, type BenchRow } from '../report.ts';

const SOURCE = exampleCodecSource('multisense.js');
const BYTES = Uint8Array.from(MULTISENSE_UPLINK.bytes);
const CTX = { fPort: MULTISENSE_UPLINK.fPort, recvTimeMs: Date.parse('2025-03-01T12:00:00Z') };
/** Generous: the bench measures time, it does not want a loaded machine to turn a decode into an error. */
const BENCH_TIMEOUT_MS = 5_000;

function row(r: Partial<BenchRow> & Pick<BenchRow, 'name' | 'value' | 'unit'>): BenchRow {
  return { anchor: null, anchorValue: null, ratio: null, goal: null, met: null, ...r };
}
const versus = (
  name: string,
  value: number,
  anchor: string,
  anchorValue: number,
  goal?: { text: string; met: boolean },
) =>
  row({
    name,
    value,
    unit: 'ms',
    anchor,
    anchorValue,
    ratio: anchorValue / value,
    ...(goal ? { goal: goal.text, met: goal.met } : {}),
  });

/** The previous design: one fresh runtime per message, the whole source evaluated, then the driver. */
function previousDesignDecode(quickjs: QuickJSWASMModule): unknown {
  const runtime = quickjs.newRuntime();
  runtime.setMemoryLimit(16 * 1024 * 1024);
  runtime.setMaxStackSize(256 * 1024);
  runtime.setInterruptHandler(shouldInterruptAfterDeadline(Date.now() + BENCH_TIMEOUT_MS));
  const context = runtime.newContext();
  try {
    const input = JSON.stringify(
      JSON.stringify({ bytes: [...BYTES], fPort: CTX.fPort, recvTimeMs: CTX.recvTimeMs }),
    );
    const driver = `(function () { var i = JSON.parse(${input}); return JSON.stringify(decodeUplink({ bytes: i.bytes, fPort: i.fPort, recvTime: new Date(i.recvTimeMs) })); })()`;
    for (const [code, file] of [
      [SOURCE, 'codec.js'],
      [driver, 'driver.js'],
    ] as const) {
      const result = context.evalCode(code, file);
      if (result.error) throw new Error(`previous design: ${JSON.stringify(context.dump(result.error))}`);
      if (file === 'driver.js') return JSON.parse(context.dump(result.value) as string);
      result.value.dispose();
    }
    return undefined;
  } finally {
    context.dispose();
    runtime.dispose();
  }
}

async function timeEach(count: number, decode: () => Promise<unknown> | unknown): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    await decode();
    times.push(performance.now() - started);
    // Give the event loop a turn between uplinks, as MQTT deliveries do; the delay monitor needs it.
    await new Promise((resolve) => setImmediate(resolve));
  }
  return times.sort((a, b) => a - b);
}

/** The event loop's p99 delay (ms) while `work` runs. */
async function loopDelayP99(work: () => Promise<unknown>): Promise<number> {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  await work();
  histogram.disable();
  return histogram.percentile(99) / 1e6;
}

/** A `while (true)` codec's call under the default 100 ms budget: how long the event loop stalled at most. */
async function runawayStallMs(
  runner: CodecRunnerFactory,
): Promise<{ stallMs: number; failedAfterMs: number }> {
  const codec = new JsCodec({
    source: 'function decodeUplink(i) { if (i.bytes[0] === 1) { while (true) {} } return { data: {} }; }',
    runner,
  });
  await codec.decode(Uint8Array.of(0), CTX);
  let last = performance.now();
  let stallMs = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    stallMs = Math.max(stallMs, now - last);
    last = now;
  }, 1);
  const started = performance.now();
  const out = await codec.decode(Uint8Array.of(1), CTX);
  const failedAfterMs = performance.now() - started;
  clearInterval(timer);
  stallMs = Math.max(stallMs, performance.now() - last);
  await codec.close();
  if (!out.errors[0]?.includes('time limit'))
    throw new Error(`runaway codec: expected a time-limit error, got ${JSON.stringify(out)}`);
  return { stallMs, failedAfterMs };
}

export async function run({ quick }: { quick: boolean }): Promise<BenchRow[]> {
  const rounds = quick ? 3 : 7;
  const perRound = quick ? 50 : 200;
  const previousPerRound = quick ? 10 : 30;
  console.log(
    `large codec: ${(SOURCE.length / 1024).toFixed(0)} KiB of source; ${rounds} rounds of ${perRound} uplinks (previous design: ${previousPerRound})`,
  );

  // First decodes, before anything else in this process has loaded QuickJS on this thread.
  let started = performance.now();
  const previousModule = await newQuickJSWASMModule();
  previousDesignDecode(previousModule);
  const previousFirstMs = performance.now() - started;
  const firstCold: number[] = [];
  const firstWarm: number[] = [];
  for (let i = 0; i < (quick ? 2 : 4); i++) {
    const cold = new JsCodec({ source: SOURCE, timeoutMs: BENCH_TIMEOUT_MS, runner: workerCodecRunner });
    started = performance.now();
    await cold.decode(BYTES, CTX);
    firstCold.push(performance.now() - started);
    await cold.close();
    const warm = new JsCodec({ source: SOURCE, timeoutMs: BENCH_TIMEOUT_MS, runner: workerCodecRunner });
    await warm.warm();
    started = performance.now();
    await warm.decode(BYTES, CTX);
    firstWarm.push(performance.now() - started);
    await warm.close();
  }

  const worker = new JsCodec({ source: SOURCE, timeoutMs: BENCH_TIMEOUT_MS, runner: workerCodecRunner });
  const inProcess = new JsCodec({
    source: SOURCE,
    timeoutMs: BENCH_TIMEOUT_MS,
    runner: inProcessCodecRunner,
  });
  const plain = vm.runInNewContext(`${SOURCE}\ndecodeUplink`) as (input: unknown) => unknown;
  await worker.decode(BYTES, CTX);
  await inProcess.decode(BYTES, CTX);
  const p50: Record<string, number[]> = { worker: [], inProcess: [], previous: [], plain: [] };
  const delay: Record<string, number[]> = { worker: [], previous: [] };
  for (let r = 0; r < rounds; r++) {
    let times: number[] = [];
    delay.worker!.push(
      await loopDelayP99(async () => (times = await timeEach(perRound, () => worker.decode(BYTES, CTX)))),
    );
    p50.worker!.push(percentile(times, 50));
    p50.inProcess!.push(percentile(await timeEach(perRound, () => inProcess.decode(BYTES, CTX)), 50));
    delay.previous!.push(
      await loopDelayP99(
        async () => (times = await timeEach(previousPerRound, () => previousDesignDecode(previousModule))),
      ),
    );
    p50.previous!.push(percentile(times, 50));
    p50.plain!.push(
      percentile(
        await timeEach(perRound * 10, () =>
          plain({ bytes: [...BYTES], fPort: CTX.fPort, recvTime: new Date(CTX.recvTimeMs) }),
        ),
        50,
      ),
    );
  }
  await Promise.all([worker.close(), inProcess.close()]);
  const med = (xs: number[]) => summarize(xs).median;
  for (const [k, v] of Object.entries(p50))
    console.log(`decode p50 ${k}: ${v.map((x) => x.toFixed(3)).join(' ')} ms over rounds`);

  const runawayWorker = await runawayStallMs(workerCodecRunner);
  const runawayInProcess = await runawayStallMs(inProcessCodecRunner);
  console.log(
    `while(true): worker failed after ${runawayWorker.failedAfterMs.toFixed(0)} ms, in process after ${runawayInProcess.failedAfterMs.toFixed(0)} ms`,
  );

  const previous = 'fresh QuickJS runtime per message (previous design)';
  return [
    versus('large codec decode p50, worker runner', med(p50.worker!), previous, med(p50.previous!), {
      text: '< 1 ms',
      met: med(p50.worker!) < 1,
    }),
    versus('large codec decode p50, in-process runner', med(p50.inProcess!), previous, med(p50.previous!)),
    row({
      name: 'large codec decode p50, plain JS in node:vm (no sandbox; reference)',
      value: med(p50.plain!),
      unit: 'ms',
    }),
    versus(
      'large codec first decode, new codec (thread start + evaluation + call)',
      med(firstCold),
      'previous design, first decode (QuickJS load + evaluation + call)',
      previousFirstMs,
    ),
    versus(
      'large codec first decode after warm()',
      med(firstWarm),
      'previous design, first decode (QuickJS load + evaluation + call)',
      previousFirstMs,
      { text: '< 100 ms budget', met: med(firstWarm) < 100 },
    ),
    versus(
      'event-loop delay p99 while decoding, worker runner',
      med(delay.worker!),
      previous,
      med(delay.previous!),
    ),
    versus(
      'while(true) codec, longest event-loop stall, worker runner',
      runawayWorker.stallMs,
      'in-process runner (QuickJS interrupt on this thread)',
      runawayInProcess.stallMs,
      {
        text: '< 100 ms (the budget)',
        met: runawayWorker.stallMs < 100,
      },
    ),
  ];
}
