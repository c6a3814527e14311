import { serve } from '@hono/node-server';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { HexEdgeError } from '../errors.ts';

export interface HttpListener {
  url: string;
  port: number;
  close(): Promise<void>;
}

/**
 * Serves a hono app on a port (0 picks a free one); fails with a clear message when the port is taken.
 * `wrap` puts a listener of the deployable's own in front of hono's (the edge node serves infer calls
 * straight off the socket and hands everything else on).
 */
export function listenHttp(options: {
  app: { fetch: (request: Request) => Response | Promise<Response> };
  port: number;
  host: string;
  wrap?: (hono: http.RequestListener) => http.RequestListener;
}): Promise<HttpListener> {
  const { wrap } = options;
  return new Promise((resolve, reject) => {
    const server = serve(
      {
        fetch: options.app.fetch,
        port: options.port,
        hostname: options.host,
        ...(wrap
          ? {
              createServer: ((serverOptions: http.ServerOptions, listener: http.RequestListener) =>
                http.createServer(serverOptions, wrap(listener))) as typeof http.createServer,
            }
          : {}),
      },
      (info: AddressInfo) => {
        const host = info.family === 'IPv6' ? `[${info.address}]` : info.address;
        resolve({
          url: `http://${host}:${info.port}`,
          port: info.port,
          close: () =>
            new Promise<void>((done) => {
              server.close(() => done());
              (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
            }),
        });
      },
    );
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(
        err.code === 'EADDRINUSE'
          ? new Error(`port ${options.port} on ${options.host} is already in use; pick another with --port`)
          : err,
      );
    });
  });
}

/**
 * The body of a request whose Content-Length the HTTP parser holds it to, chunks joined once, for the
 * listeners that serve a hot route straight off the socket. A plain Uint8Array view, never a Buffer
 * (`Buffer#slice` shares memory where `Uint8Array#slice` copies: what reads it need not know which it
 * got). Rejects (INVALID_REQUEST) when the connection closes before the declared length arrived.
 */
export function readDeclaredBody(req: http.IncomingMessage): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.once('end', () => {
      const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      resolve(new Uint8Array(body.buffer, body.byteOffset, body.byteLength));
    });
    req.once('error', reject);
    req.once('close', () => {
      if (!req.complete) reject(new HexEdgeError('INVALID_REQUEST', 'the request body ended early'));
    });
  });
}
