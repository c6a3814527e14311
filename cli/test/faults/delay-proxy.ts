import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A tiny HTTP proxy on 127.0.0.1 that holds every request `delayMs` before passing it to `target`:
 * a node behind it looks like a slow (overloaded, far, throttled) node to the gateway, while the node
 * itself is untouched. The node registers the proxy's URL as its publicUrl.
 */
export async function startDelayProxy(options: { port: number; target: string; delayMs: number }): Promise<{ url: string; proxied: () => number; close: () => Promise<void> }> {
  const target = new URL(options.target);
  let proxied = 0;
  const server: Server = createServer((req, res) => {
    proxied++;
    setTimeout(() => {
      const upstream = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      upstream.on('error', () => res.destroy());
      req.pipe(upstream);
    }, options.delayMs);
  });
  await new Promise<void>((resolve) => server.listen(options.port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    proxied: () => proxied,
    close: () => new Promise((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}
