import { HexEdgeError, sha256 } from '@hexedge/protocol';
import type { MiddlewareHandler } from 'hono';

const encoder = new TextEncoder();

/** Equal-time comparison of two digests, so response timing does not reveal how much of a key matched. */
function digestsEqual(a: Uint8Array, b: Uint8Array): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ (b[i] ?? 0);
  return diff === 0;
}

/** Holds API keys only as SHA-256 digests; the keys themselves are never kept or logged. */
export class ApiKeys {
  readonly #digests: Uint8Array[];

  private constructor(digests: Uint8Array[]) {
    this.#digests = digests;
  }

  static async fromKeys(keys: readonly string[]): Promise<ApiKeys> {
    return new ApiKeys(await Promise.all(keys.map((k) => sha256(encoder.encode(k)))));
  }

  async isValid(key: string): Promise<boolean> {
    const digest = await sha256(encoder.encode(key));
    let found = false;
    for (const d of this.#digests) found = digestsEqual(d, digest) || found;
    return found;
  }
}

const BEARER = /^Bearer ([\x21-\x7e]{1,256})$/;

/** `Authorization: Bearer <key>`; 401 UNAUTHORIZED when it is missing, malformed or unknown. */
export function requireApiKey(keys: ApiKeys): MiddlewareHandler {
  return async (c, next) => {
    const header = c.req.header('authorization');
    if (!header) throw new HexEdgeError('UNAUTHORIZED', 'missing Authorization header; send "Authorization: Bearer <api key>"');
    const match = BEARER.exec(header);
    if (!match) throw new HexEdgeError('UNAUTHORIZED', 'Authorization header must be "Bearer <api key>"');
    if (!(await keys.isValid(match[1]!))) throw new HexEdgeError('UNAUTHORIZED', 'API key is not valid');
    await next();
  };
}
