/**
 * The gateway's floor: a bare reverse proxy with the same transport to the node as the gateway
 * (undici Pool, CONNECTIONS_TO_NODE keep-alive connections, no pipelining) and nothing else: it reads
 * the request body, forwards it (with the client's forward-signature headers) to the same path on the
 * node, and pipes the node's answer back. No auth, no schema, no placement, no receipt check.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream/promises';
import { Pool } from 'undici';

/** As the gateway's PooledNodeClient (gateway/src/adapters/pooled-node-client.ts). */
export const CONNECTIONS_TO_NODE = 32;

export interface BareProxy {
  url: string;
  close(): Promise<void>;
}

export function startBareProxy(options: { nodeUrl: string }): Promise<BareProxy> {
  const pool = new Pool(options.nodeUrl, { connections: CONNECTIONS_TO_NODE, pipelining: 1, keepAliveTimeout: 30_000 });
  const server = http.createServer(async (req, res) => {
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const answer = await pool.request({
        method: req.method as 'POST',
        path: req.url!,
        // The content type and the forward signature (nodes serve only requests signed for them).
        headers: Object.fromEntries(Object.entries(req.headers).filter(([k]) => k === 'content-type' || k.startsWith('x-hexedge-'))) as Record<string, string>,
        body: Buffer.concat(chunks),
      });
      res.writeHead(answer.statusCode, { 'content-type': String(answer.headers['content-type'] ?? 'application/json') });
      await pipeline(answer.body, res);
    } catch (err) {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`proxy: ${(err as Error).message}`);
    }
  });
  server.keepAliveTimeout = 60_000;
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}`,
        close: async () => {
          server.closeAllConnections();
          await new Promise((done) => server.close(done));
          await pool.close();
        },
      });
    });
  });
}
