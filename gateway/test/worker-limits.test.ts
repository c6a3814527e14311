// Node registrations and heartbeats on the Worker are limited per client source (IPv4 address or IPv6
// /64, plus its /48) before any parsing or signature work, as on Node, and the buckets live in Durable
// Objects, so two isolates of one deployment draw on the same allowance. The client address is the
// CF-Connecting-IP header: Cloudflare's edge sets it in production; miniflare sets it from the socket
// only when a request lacks it, so a test can send requests "from" any address.
import { generateNodeKeyPair, signBody } from '@hexedge/protocol';
import type { Miniflare } from 'miniflare';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleWorker, gatewayReplyOf, startWorker, type GatewayReply } from './worker-harness.ts';

const MODEL = { name: 'm', version: '1', contentId: 'c'.repeat(64), ready: true };
const REGISTRATION_BURST = 4;

describe('node message limits per client source on the Worker (workerd)', () => {
  let bundle: ReturnType<typeof bundleWorker>;
  let mf: Miniflare;

  /** POST a node message to one isolate ("gateway" or "gateway-2") from one client address. */
  const send = async (options: {
    isolate: string;
    from?: string;
    route: 'register' | 'heartbeat';
    body: string;
  }) => {
    const worker = await mf.getWorker(options.isolate);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (options.from !== undefined) headers['cf-connecting-ip'] = options.from;
    const res = (await worker.fetch(`http://gw/v1/nodes/${options.route}`, {
      method: 'POST',
      headers,
      body: options.body,
    })) as unknown as Response;
    return gatewayReplyOf(res);
  };
  const junk = (isolate: string, from: string, route: 'register' | 'heartbeat' = 'register') =>
    send({ isolate, from, route, body: '{"not":"a signed message"' });

  beforeAll(() => {
    bundle = bundleWorker(path.resolve(import.meta.dirname, 'worker-test-entry.ts'));
    mf = startWorker({
      scriptPath: bundle.scriptPath,
      isolates: 2,
      bindings: {
        // One registration a minute after the burst: nothing refills within the test.
        REGISTRATIONS_PER_SOURCE_PER_MINUTE: '1',
        REGISTRATION_BURST_PER_SOURCE: String(REGISTRATION_BURST),
        // A burst of 5 × 0.2 = 1 heartbeat, then one per 5 s.
        HEARTBEATS_PER_SOURCE_PER_SECOND: '0.2',
      },
    });
  }, 120_000);

  afterAll(async () => {
    await mf?.dispose();
    bundle?.cleanup();
  });

  it('refuses registrations from one address past its burst, junk bodies included, across isolates', async () => {
    const replies: GatewayReply[] = [];
    // Alternating isolates: the allowance is one per source for the deployment, not one per isolate.
    for (let i = 0; i < REGISTRATION_BURST + 3; i++)
      replies.push(await junk(i % 2 ? 'gateway-2' : 'gateway', '203.0.113.7'));
    const passed = replies.slice(0, REGISTRATION_BURST);
    const refused = replies.slice(REGISTRATION_BURST);
    // Within the burst the body is read, and refused as the junk it is.
    for (const r of passed) expect(r).toMatchObject({ status: 400 });
    for (const r of refused) {
      expect(r).toMatchObject({ status: 429, code: 'RATE_LIMITED' });
      expect(r.message).toMatch(
        /too many registrations from 203\.0\.113\.7 \(limit 0\.01\d*\/s, burst 4\); retry in \d+ s/,
      );
      expect(Number(r.retryAfter)).toBeGreaterThanOrEqual(1);
    }
  });

  it('does not hold up another source: a signed registration from elsewhere is accepted', async () => {
    expect((await junk('gateway', '203.0.113.7')).status).toBe(429);
    const keys = await generateNodeKeyPair();
    const message = await signBody(
      'registration',
      {
        nodeId: keys.nodeId,
        issuedAtMs: Date.now(),
        url: 'http://limits-node.test',
        location: { lat: 48.85, lng: 2.35 },
        hardware: { cpuCores: 4, memoryMb: 4096, executionProviders: ['cpu' as const] },
        models: [MODEL],
      },
      keys.privateKey,
    );
    const ok = await send({
      isolate: 'gateway-2',
      from: '198.51.100.20',
      route: 'register',
      body: JSON.stringify(message),
    });
    expect(ok.status, ok.message).toBe(200);
    expect((await junk('gateway', '198.51.100.21')).status).toBe(400);
  });

  it('counts an IPv6 /64 as one source and IPv4-mapped addresses as IPv4', async () => {
    const replies: GatewayReply[] = [];
    for (let i = 1; i <= REGISTRATION_BURST + 1; i++)
      replies.push(await junk(i % 2 ? 'gateway' : 'gateway-2', `2001:db8:a:1::${i.toString(16)}`));
    expect(replies.map((r) => r.status)).toEqual([...Array<number>(REGISTRATION_BURST).fill(400), 429]);
    expect(replies.at(-1)!.message).toContain('registrations from 2001:db8:a:1::/64');
    // Another /64 of the same /48 has its own allowance (the /48's is looser).
    expect((await junk('gateway', '2001:db8:a:2::1')).status).toBe(400);
    // 203.0.113.7 spent its burst above; written IPv4-mapped it is the same source.
    expect(await junk('gateway-2', '::ffff:203.0.113.7')).toMatchObject({
      status: 429,
      code: 'RATE_LIMITED',
    });
  });

  it('limits heartbeats per source apart from registrations', async () => {
    const first = await junk('gateway', '192.0.2.50', 'heartbeat');
    const second = await junk('gateway-2', '192.0.2.50', 'heartbeat');
    expect(first.status).toBe(400);
    expect(second).toMatchObject({ status: 429, code: 'RATE_LIMITED' });
    expect(second.message).toContain('heartbeats from 192.0.2.50');
    // The address's registrations are a separate bucket.
    expect((await junk('gateway', '192.0.2.50')).status).toBe(400);
  });

  it('counts requests without an address under one "unknown" source', async () => {
    const replies: GatewayReply[] = [];
    for (let i = 0; i < REGISTRATION_BURST + 1; i++)
      replies.push(await send({ isolate: i % 2 ? 'gateway-2' : 'gateway', route: 'register', body: '{}' }));
    // Either miniflare named the loopback peer or nobody did: both are one source, limited alike.
    expect(replies.at(-1)).toMatchObject({ status: 429, code: 'RATE_LIMITED' });
  });

  it('limits each node past its signature, in its shard: forgeries spend nothing, fresh addresses buy nothing', async () => {
    const keys = await generateNodeKeyPair();
    const forger = await generateNodeKeyPair();
    const registration = (issuedAtMs: number) =>
      signBody(
        'registration',
        {
          nodeId: keys.nodeId,
          issuedAtMs,
          url: 'http://per-node.test',
          location: { lat: 52.52, lng: 13.4 },
          hardware: { cpuCores: 4, memoryMb: 4096, executionProviders: ['cpu' as const] },
          models: [MODEL],
        },
        keys.privateKey,
      );
    const heartbeat = (seq: number, signer = keys) =>
      signBody(
        'heartbeat',
        { nodeId: keys.nodeId, seq, issuedAtMs: Date.now(), models: [MODEL] },
        signer.privateKey,
      );
    // Each message from its own address: the per-source buckets never bind here.
    let host = 0;
    const from = () => `198.18.${Math.floor(++host / 250)}.${host % 250}`;
    const startMs = Date.now();
    const registrations: GatewayReply[] = [];
    // The per-node default: a burst of 5 registrations, then one per 10 s.
    for (let i = 0; i < 6; i++)
      registrations.push(
        await send({
          isolate: i % 2 ? 'gateway-2' : 'gateway',
          from: from(),
          route: 'register',
          body: JSON.stringify(await registration(startMs + i)),
        }),
      );
    expect(registrations.slice(0, 5).map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(registrations[5]).toMatchObject({ status: 429, code: 'RATE_LIMITED' });
    expect(registrations[5]!.message).toContain(`registrations from node ${keys.nodeId}`);
    // Forged heartbeats in the node's name are refused at the signature and take none of its allowance.
    for (let seq = 1; seq <= 5; seq++)
      expect(
        (
          await send({
            isolate: 'gateway',
            from: from(),
            route: 'heartbeat',
            body: JSON.stringify(await heartbeat(seq, forger)),
          })
        ).code,
      ).toBe('BAD_SIGNATURE');
    // Heartbeat interval 60 s in the harness: twice that pace is 1/30 s, with a burst of 5.
    const heartbeats: GatewayReply[] = [];
    for (let seq = 1; seq <= 6; seq++)
      heartbeats.push(
        await send({
          isolate: seq % 2 ? 'gateway-2' : 'gateway',
          from: from(),
          route: 'heartbeat',
          body: JSON.stringify(await heartbeat(seq)),
        }),
      );
    expect(heartbeats.slice(0, 5).map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(heartbeats[5]).toMatchObject({ status: 429, code: 'RATE_LIMITED' });
    expect(heartbeats[5]!.message).toContain(`heartbeats from node ${keys.nodeId}`);
  });
});
