import { HexEdgeError, isHexEdgeError } from '@hexedge/protocol';
import type { Context } from 'hono';

/** Every error leaves the gateway as `{ error: { code, message } }` with the code's HTTP status. */
export function errorResponse(c: Context, err: unknown): Response {
  if (isHexEdgeError(err)) return c.json(err.toBody(), err.httpStatus as 400);
  console.error('gateway: unexpected error', err);
  const internal = new HexEdgeError('INTERNAL', 'internal error');
  return c.json(internal.toBody(), 500);
}

export async function readJsonBody(c: Context): Promise<unknown> {
  try {
    return await c.req.json();
  } catch {
    throw new HexEdgeError('INVALID_JSON', 'request body is not valid JSON');
  }
}
