import type { MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';

/**
 * CORS for a public API (any origin, no credentials): hono's `cors` for preflights, and for every
 * other request the same two headers set on the answer once it exists. hono's middleware sets them
 * on `c.res` *before* the handler runs, which makes hono rebuild every answer when the handler's
 * response replaces that placeholder (a new Response, its body materialised, each header copied):
 * ~5 % of the gateway's CPU under load, profiled. Set afterwards, they cost two header writes. As
 * with hono's, the CORS headers win over a handler's own of the same name.
 */
export function publicCors(options: { allowHeaders: string[]; exposeHeaders: string[] }): MiddlewareHandler {
  const preflight = cors({ origin: '*', ...options });
  const expose = options.exposeHeaders.join(',');
  return async (c, next) => {
    if (c.req.method === 'OPTIONS') return preflight(c, next);
    await next();
    try {
      c.res.headers.set('Access-Control-Allow-Origin', '*');
      if (expose) c.res.headers.set('Access-Control-Expose-Headers', expose);
    } catch {
      // An answer with immutable headers (a proxied fetch's): copy it into one we may change.
      c.res = new Response(c.res.body, c.res);
      c.res.headers.set('Access-Control-Allow-Origin', '*');
      if (expose) c.res.headers.set('Access-Control-Expose-Headers', expose);
    }
  };
}
