import { execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { HEXEDGE_BIN } from '@hexedge/test-kit';
import { runMqttLoad } from './mqtt-load.ts';

/**
 * `npm run test:load [-- --duration-s 60 --nodes 4 …]`: `hexedge dev` with several nodes under
 * autocannon (HTTP) and an MQTT load generator at the same time, for a fixed time. Checks: no 5xx but
 * deliberate 503 backpressure, the `hexedge dev` process's RSS (the gateway runs in it, with the
 * embedded broker and the oracle) at the end within RSS_GROWTH_BOUND of its RSS after warm-up; reports
 * p50/p99 latency. Writes test-artifacts/load.json. 127.0.0.1 only; every phase is bounded in time.
 */
const { values } = parseArgs({
  options: {
    'duration-s': { type: 'string', default: process.env.LOAD_DURATION_S ?? '60' },
    'warmup-s': { type: 'string', default: process.env.LOAD_WARMUP_S ?? '5' },
    nodes: { type: 'string', default: process.env.LOAD_NODES ?? '4' },
    connections: { type: 'string', default: process.env.LOAD_HTTP_CONNECTIONS ?? '16' },
    'mqtt-clients': { type: 'string', default: process.env.LOAD_MQTT_CLIENTS ?? '4' },
    'mqtt-in-flight': { type: 'string', default: process.env.LOAD_MQTT_IN_FLIGHT ?? '4' },
  },
});
const DURATION_S = Number(values['duration-s']);
const WARMUP_S = Number(values['warmup-s']);
const NODES = Number(values.nodes);
const CONNECTIONS = Number(values.connections);
const MQTT_CLIENTS = Number(values['mqtt-clients']);
const MQTT_IN_FLIGHT = Number(values['mqtt-in-flight']);
/** End RSS may exceed post-warm-up RSS by at most this factor (caches and JIT settle after warm-up; a leak grows with requests). */
const RSS_GROWTH_BOUND = 1.5;
const API_KEY = 'hx_load-test-admin-key-0123456789';
const AUTOCANNON = path.resolve(import.meta.dirname, '../../../node_modules/.bin/autocannon');
const ARTIFACTS = path.resolve(import.meta.dirname, '../../../test-artifacts');
const BODY = JSON.stringify({
  model: 'comfort-index',
  location: { lat: 50.11, lng: 8.68 },
  inputs: [{ name: 'readings', datatype: 'FP32', shape: [1, 3], data: [31, 60, 650] }],
});

const rssKiB = (pid: number) =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);

function autocannon(
  url: string,
  seconds: number,
  connections: number,
): Promise<{
  latency: { p50: number; p99: number; max: number };
  requests: { total: number; average: number };
  errors: number;
  timeouts: number;
  non2xx: number;
  statusCodeStats?: Record<string, { count: number }>;
  [k: string]: unknown;
}> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [
        AUTOCANNON,
        '-j',
        '-c',
        String(connections),
        '-d',
        String(seconds),
        '-t',
        '10',
        '-m',
        'POST',
        '-H',
        `authorization=Bearer ${API_KEY}`,
        '-H',
        'content-type=application/json',
        '-b',
        BODY,
        `${url}/v1/infer`,
      ],
      { maxBuffer: 16 * 2 ** 20, timeout: (seconds + 30) * 1000 },
      (err, stdout) => (err ? reject(err) : resolve(JSON.parse(stdout))),
    );
  });
}

async function main() {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'hexedge-load-'));
  const help = await new Promise<string>((r) =>
    execFile(process.execPath, [HEXEDGE_BIN, 'help'], (_e, out) => r(out)),
  );
  // The LoRaWAN device simulator would add its own traffic: off where this build has the flag.
  const simOff = help.includes('--sim-speed') ? ['--sim-speed', '0'] : [];
  const dev = spawn(
    process.execPath,
    [
      HEXEDGE_BIN,
      'dev',
      '--port',
      '0',
      '--mqtt-port',
      '0',
      '--nodes',
      String(NODES),
      '--data-dir',
      dataDir,
      '--api-key',
      API_KEY,
      ...simOff,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const lines: string[] = [];
  const ready = await new Promise<{ gateway: string; mqtt: string }>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`hexedge dev not ready in 120 s:\n${lines.slice(-20).join('\n')}`)),
      120_000,
    );
    dev.once('exit', (code) =>
      reject(new Error(`hexedge dev exited with ${code}:\n${lines.slice(-20).join('\n')}`)),
    );
    for (const s of [dev.stdout, dev.stderr]) {
      createInterface({ input: s }).on('line', (line) => {
        lines.push(line);
        const m = /ready: gateway (\S+) mqtt (\S+)/.exec(line);
        if (!m) return;
        clearTimeout(timer);
        resolve({ gateway: m[1]!, mqtt: m[2]! });
      });
    }
  });
  const pid = dev.pid!;
  try {
    console.log(
      `load: hexedge dev (pid ${pid}) ready with ${NODES} nodes; warm-up ${WARMUP_S} s, then ${DURATION_S} s of HTTP (${CONNECTIONS} connections) + MQTT (${MQTT_CLIENTS} clients × ${MQTT_IN_FLIGHT} in flight)`,
    );
    const rssStartKiB = rssKiB(pid);
    await autocannon(ready.gateway, WARMUP_S, Math.max(1, CONNECTIONS / 4));
    const rssWarmKiB = rssKiB(pid);
    const rssSamples: number[] = [];
    const sampler = setInterval(() => rssSamples.push(rssKiB(pid)), 1_000);
    const [http, mqtt] = await Promise.all([
      autocannon(ready.gateway, DURATION_S, CONNECTIONS),
      runMqttLoad({
        url: ready.mqtt,
        apiKey: API_KEY,
        clients: MQTT_CLIENTS,
        inFlight: MQTT_IN_FLIGHT,
        durationMs: DURATION_S * 1000,
        drainMs: 10_000,
        body: BODY,
      }),
    ]);
    clearInterval(sampler);
    const rssEndKiB = rssKiB(pid);
    const codes = Object.fromEntries(
      Object.entries(http.statusCodeStats ?? {}).map(([code, s]) => [code, s.count]),
    );
    const http5xx = Object.entries(codes)
      .filter(([c]) => c.startsWith('5') && c !== '503')
      .reduce((n, [, v]) => n + v, 0);
    const mqtt5xx = Object.entries(mqtt.errors)
      .filter(([c]) => !['NO_NODE_AVAILABLE', 'RATE_LIMITED', 'OVERLOADED'].includes(c))
      .reduce((n, [, v]) => n + v, 0);
    const result = {
      generatedAt: new Date().toISOString(),
      machine: { cpus: os.availableParallelism(), totalMemMiB: Math.round(os.totalmem() / 2 ** 20) },
      config: {
        durationS: DURATION_S,
        warmupS: WARMUP_S,
        nodes: NODES,
        httpConnections: CONNECTIONS,
        mqttClients: MQTT_CLIENTS,
        mqttInFlight: MQTT_IN_FLIGHT,
        rssGrowthBound: RSS_GROWTH_BOUND,
      },
      http: {
        requests: http.requests.total,
        perSecond: http.requests.average,
        statusCodes: codes,
        errors: http.errors,
        timeouts: http.timeouts,
        latencyMs: { p50: http.latency.p50, p99: http.latency.p99, max: http.latency.max },
        unexpected5xx: http5xx,
      },
      mqtt: { ...mqtt, perSecond: mqtt.sent / DURATION_S, unexpectedErrors: mqtt5xx },
      rssMiB: {
        start: rssStartKiB / 1024,
        afterWarmup: rssWarmKiB / 1024,
        peak: Math.max(...rssSamples, rssEndKiB) / 1024,
        end: rssEndKiB / 1024,
        bound: (rssWarmKiB * RSS_GROWTH_BOUND) / 1024,
      },
    };
    const checks = {
      'no 5xx except 503 (HTTP)': http5xx === 0 && http.errors === 0 && http.timeouts === 0,
      'no unexpected MQTT errors, none unanswered': mqtt5xx === 0 && mqtt.unanswered === 0,
      [`RSS end ≤ ${RSS_GROWTH_BOUND} × after warm-up`]: rssEndKiB <= rssWarmKiB * RSS_GROWTH_BOUND,
    };
    mkdirSync(ARTIFACTS, { recursive: true });
    writeFileSync(path.join(ARTIFACTS, 'load.json'), `${JSON.stringify({ ...result, checks }, null, 2)}\n`);
    const f = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(1));
    const rows = [
      [
        'HTTP (autocannon)',
        f(http.requests.total),
        f(http.requests.average),
        JSON.stringify(codes),
        f(http.latency.p50),
        f(http.latency.p99),
        f(http.latency.max),
      ],
      [
        'MQTT v3.1.1 QoS 1',
        f(mqtt.sent),
        f(mqtt.sent / DURATION_S),
        `ok ${mqtt.answered} ${JSON.stringify(mqtt.errors)} unanswered ${mqtt.unanswered}`,
        f(mqtt.latencyMs.p50),
        f(mqtt.latencyMs.p99),
        f(mqtt.latencyMs.max),
      ],
    ];
    const header = ['load', 'requests', 'req/s', 'outcomes', 'p50 ms', 'p99 ms', 'max ms'];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
    console.log([line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n'));
    console.log(
      `RSS of hexedge dev (gateway + broker + oracle): start ${f(result.rssMiB.start)} MiB, after warm-up ${f(result.rssMiB.afterWarmup)}, peak ${f(result.rssMiB.peak)}, end ${f(result.rssMiB.end)} (bound ${f(result.rssMiB.bound)})`,
    );
    for (const [what, ok] of Object.entries(checks)) console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
    console.log('written: test-artifacts/load.json');
    if (!Object.values(checks).every(Boolean)) process.exitCode = 1;
  } finally {
    const exited = new Promise((r) => dev.once('exit', r));
    dev.kill('SIGINT');
    const killer = setTimeout(() => dev.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(killer);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
