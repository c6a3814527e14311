import type { Context } from 'hono';

/**
 * Reads one built dashboard file by its path under the build's root (`index.html`,
 * `assets/index-1a2b.js`); undefined when there is no such file. The composition root supplies it
 * (files on Node, an assets binding on Workers), so the gateway never imports the dashboards package.
 */
export type StaticAssets = (path: string) => Promise<Uint8Array | undefined>;

const CONTENT_TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  json: 'application/json',
  svg: 'image/svg+xml',
  png: 'image/png',
  ico: 'image/x-icon',
  wasm: 'application/wasm',
  woff2: 'font/woff2',
  txt: 'text/plain; charset=utf-8',
};

/** Plain relative paths only: no `..`, no empty or dot segments, no backslashes or odd characters. */
const SAFE_PATH = /^(?:[A-Za-z0-9_-][A-Za-z0-9._-]*\/)*[A-Za-z0-9_-][A-Za-z0-9._-]*$/;

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>HexEdge dashboard</title>
<p>The dashboard is not built. Run <code>npm run build -w @hexedge/dashboards</code> (or restart
<code>hexedge dev</code>, which builds it when missing).</p>`;

/** GET /dashboard/*: the built single-page app; unknown page paths get index.html (hash routing). */
export function assetsHandler(assets: StaticAssets | undefined) {
  return async (c: Context) => {
    const rel = c.req.path.replace(/^\/dashboard\/?/, '') || 'index.html';
    if (!SAFE_PATH.test(rel)) return c.text('not found', 404);
    const ext = rel.includes('.') ? rel.slice(rel.lastIndexOf('.') + 1) : '';
    let bytes = assets ? await assets(rel) : undefined;
    let servedExt = ext;
    if (!bytes && (ext === '' || ext === 'html')) {
      bytes = assets ? await assets('index.html') : undefined;
      servedExt = 'html';
      if (!bytes) return c.html(NOT_BUILT, 503);
    }
    if (!bytes) return c.text('not found', 404);
    return new Response(bytes as Uint8Array<ArrayBuffer>, {
      headers: {
        'content-type': CONTENT_TYPES[servedExt] ?? 'application/octet-stream',
        // Vite names bundles by content hash, so they never change; the page itself must be re-read.
        'cache-control': rel.startsWith('assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
        'x-content-type-options': 'nosniff',
      },
    });
  };
}
