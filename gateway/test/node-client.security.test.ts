import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { PooledNodeClient } from '../src/node/index.ts';

/*
 * The gateway's node client against real sockets: a node name re-pointed at the gateway's own network
 * after registration (DNS rebinding) is refused when connecting, and a node answering a giant body is
 * read no further than the cap.
 */
let server: Server;
let port: number;
const seen: string[] = [];
const written = { bytes: 0 };
const silentClosed: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push(req.url!);
    req.resume();
    if (req.url === '/huge') {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      const pump = () => {
        while (written.bytes < 256 * 1024 * 1024) {
          written.bytes += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      res.on('close', () => (written.bytes = Math.max(written.bytes, 0)));
      return pump();
    }
    if (req.url === '/silent') {
      // Never answers: the client's abort must end the wait and drop the connection.
      req.socket.once('close', () => silentClosed.push(req.url!));
      return;
    }
    res.writeHead(500, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: 'internal service: secret' }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const post = (client: PooledNodeClient, url: string) =>
  client.post({ url, body: '{}', signal: AbortSignal.timeout(5_000) });

describe('PooledNodeClient', () => {
  it('refuses to connect to a node name that now resolves to a loopback address (DNS rebinding)', async () => {
    const client = new PooledNodeClient({
      resolveAll: (_host, _options, callback) => callback(null, [{ address: '127.0.0.1', family: 4 }]),
    });
    try {
      await expect(post(client, `http://rebound.example:${port}/admin`)).rejects.toThrow(
        /private or loopback/,
      );
      // Twice each: the second goes through the client's parsed-URL cache, and is refused alike.
      for (const url of [`http://127.0.0.1:${port}/admin`, `http://[::1]:${port}/admin`]) {
        for (let i = 0; i < 2; i++)
          await expect(post(client, url)).rejects.toMatchObject({
            code: 'FORBIDDEN',
            message: expect.stringMatching(/node address (127\.0\.0\.1|::1) is private or loopback/),
          });
      }
      await expect(post(client, `http://rebound.example:${port}/admin`)).rejects.toThrow(
        /private or loopback/,
      );
      expect(seen).toEqual([]);
    } finally {
      await client.close();
    }
  });

  it('reaches private addresses only when the deployment allows them', async () => {
    const client = new PooledNodeClient({ allowPrivateAddresses: true });
    try {
      expect((await post(client, `http://127.0.0.1:${port}/ok`)).status).toBe(500);
      expect((await post(client, `http://127.0.0.1:${port}/ok?again=1`)).status).toBe(500);
      expect((await post(client, `http://127.0.0.1:${port}/ok`)).status).toBe(500);
      expect(seen).toEqual(['/ok', '/ok?again=1', '/ok']);
    } finally {
      await client.close();
    }
  });

  it('gives up on a silent node when the signal aborts, and drops that connection', async () => {
    const client = new PooledNodeClient({ allowPrivateAddresses: true });
    try {
      const started = performance.now();
      await expect(
        client.post({ url: `http://127.0.0.1:${port}/silent`, body: '{}', signal: AbortSignal.timeout(200) }),
      ).rejects.toMatchObject({ name: 'TimeoutError' });
      expect(performance.now() - started).toBeLessThan(5_000);
      await vi.waitFor(() => expect(silentClosed).toEqual(['/silent']));
    } finally {
      await client.close();
    }
  });

  it('reads a node answer no further than its cap, then drops the connection', async () => {
    const client = new PooledNodeClient({ allowPrivateAddresses: true, maxAnswerBytes: 1024 * 1024 });
    try {
      await expect(post(client, `http://127.0.0.1:${port}/huge`)).rejects.toMatchObject({
        code: 'PAYLOAD_TOO_LARGE',
      });
      expect(written.bytes).toBeLessThan(32 * 1024 * 1024);
    } finally {
      await client.close();
    }
  });
});
