/**
 * Run by ipv6-sources.security.test.ts inside its own user and network namespace (`unshare -rn`):
 * gives loopback the addresses of a few IPv6 /64s and /48s, starts the real gateway (buildGateway,
 * dual-stack on `::`), sends node registrations over real sockets from those addresses and from IPv4
 * 127.0.0.1 (which the dual-stack socket sees as ::ffff:127.0.0.1), and prints what came back as one
 * JSON line. The namespace keeps the test's addresses and its `::` listener off the machine's network.
 */
import { generateNodeKeyPair, signBody } from '@hexedge/protocol';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { gatewayConfigSchema } from '../src/config.ts';
import { buildGateway } from '../src/node/build-gateway.ts';

export interface ProbeAnswer {
  from: string;
  status: number;
  code?: string;
  message?: string;
}

export interface ProbeReport {
  /** Junk registrations from ten addresses of one /64. */
  one64: ProbeAnswer[];
  /** Then one each from twelve other /64s of the same /48. */
  rotating64s: ProbeAnswer[];
  /** From a /64 of another /48. */
  other48: ProbeAnswer;
  /** From IPv4 127.0.0.1, each with a different made-up proxy header. */
  ipv4: ProbeAnswer[];
  /** From ::1 once the IPv4 loopback is spent: its own source. */
  loopback6: ProbeAnswer;
  /** Signed registrations of fresh identities, each from a fresh /48. */
  /** Fresh identities from one /48 until the probation cap is full, and one more from it. */
  flood: ProbeAnswer[];
  freshIdentities: ProbeAnswer[];
}

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'pipe', 'pipe'] });

const ONE_64 = Array.from({ length: 10 }, (_, i) => `2001:db8:a:1::${(i + 1).toString(16)}`);
const ROTATING_64S = Array.from({ length: 12 }, (_, i) => `2001:db8:a:${(i + 0x100).toString(16)}::1`);
const OTHER_48 = '2001:db8:b:1::1';
const FLOOD_48 = '2001:db8:f1:1::1';
const FRESH_48S = Array.from({ length: 5 }, (_, i) => `2001:db8:${(0xc0 + i).toString(16)}:1::1`);
const PROXY_HEADERS: Record<string, string>[] = [
  { 'x-forwarded-for': '203.0.113.1' },
  { 'x-forwarded-for': '203.0.113.2, 198.51.100.2' },
  { forwarded: 'for=203.0.113.3' },
  { 'cf-connecting-ip': '203.0.113.4' },
  { 'x-real-ip': '203.0.113.5' },
  { 'x-forwarded-for': '2001:db8:ffff:1::1' },
];

function post(options: {
  port: number;
  host: string;
  from: string;
  body: unknown;
  headers?: Record<string, string>;
}): Promise<ProbeAnswer> {
  const payload = JSON.stringify(options.body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: options.host,
        port: options.port,
        localAddress: options.from,
        method: 'POST',
        path: '/v1/nodes/register',
        agent: false,
        headers: { 'content-type': 'application/json', ...options.headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const error = (JSON.parse(text) as { error?: { code: string; message: string } }).error;
          const status = res.statusCode ?? 0;
          resolve({
            from: options.from,
            status,
            ...(error ? { code: error.code, message: error.message } : {}),
          });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

async function signedRegistration() {
  const keys = await generateNodeKeyPair();
  return signBody(
    'registration',
    {
      nodeId: keys.nodeId,
      issuedAtMs: Date.now(),
      url: 'http://93.184.216.34:8080',
      location: { lat: 52.37, lng: 4.9 },
      hardware: { cpuCores: 1, memoryMb: 512, executionProviders: ['cpu' as const] },
      models: [{ name: 'm', version: '1', contentId: 'a'.repeat(64), ready: true }],
    },
    keys.privateKey,
  );
}

async function main(): Promise<void> {
  ip('link', 'set', 'lo', 'up');
  for (const address of [...ONE_64, ...ROTATING_64S, OTHER_48, FLOOD_48, ...FRESH_48S])
    ip('-6', 'addr', 'add', `${address}/128`, 'dev', 'lo', 'nodad');
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'hexedge-ipv6-probe-'));
  const stop = new AbortController();
  let closed: Promise<void> | undefined;
  try {
    const config = gatewayConfigSchema.parse({
      host: '::',
      port: 0,
      dataDir,
      limits: {
        registrationsPerIpPerMinute: 1,
        registrationBurstPerIp: 4,
        registrationsPer48PerMinute: 1,
        registrationBurstPer48: 8,
        maxProbationNodes: 3,
      },
    });
    const gateway = await buildGateway(
      config,
      { adminKey: 'hx_probe_admin_key_0123456789abcdef' },
      {
        signal: stop.signal,
      },
    );
    closed = gateway.closed;
    const port = Number(new URL(gateway.url).port);
    const junk = (from: string, host = '::1', headers?: Record<string, string>) =>
      post({ port, host, from, body: { junk: from }, ...(headers ? { headers } : {}) });
    const sequence = async <T>(items: T[], send: (item: T) => Promise<ProbeAnswer>) => {
      const answers: ProbeAnswer[] = [];
      for (const item of items) answers.push(await send(item));
      return answers;
    };
    const report: ProbeReport = {
      one64: await sequence(ONE_64, (from) => junk(from)),
      rotating64s: await sequence(ROTATING_64S, (from) => junk(from)),
      other48: await junk(OTHER_48),
      ipv4: await sequence(PROXY_HEADERS, (headers) => junk('127.0.0.1', '127.0.0.1', headers)),
      loopback6: await junk('::1'),
      flood: await sequence([1, 2, 3, 4], async () =>
        post({ port, host: '::1', from: FLOOD_48, body: await signedRegistration() }),
      ),
      freshIdentities: await sequence(FRESH_48S, async (from) =>
        post({ port, host: '::1', from, body: await signedRegistration() }),
      ),
    };
    console.log(`PROBE ${JSON.stringify(report)}`);
  } finally {
    stop.abort();
    await closed;
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
