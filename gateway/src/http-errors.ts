import { HexEdgeError, isHexEdgeError } from '@hexedge/protocol';
import type { Context } from 'hono';
import { setRetryHeaders } from './auth.ts';

/** Every error leaves the gateway as `{ error: { code, message, requestId } }` with the code's status. */
export function errorResponse(c: Context, err: unknown): Response {
  const e = isHexEdgeError(err) ? err : new HexEdgeError('INTERNAL', 'internal error');
  if (!isHexEdgeError(err)) console.error(JSON.stringify({ level: 'error', requestId: c.get('requestId'), msg: 'unexpected error', error: String(err) }));
  setRetryHeaders(c, e);
  const body = e.toBody();
  const requestId = c.get('requestId') as string | undefined;
  if (requestId) (body.error as Record<string, unknown>).requestId = requestId;
  return c.json(body, e.httpStatus as 400);
}

export async function readJsonBody(c: Context): Promise<unknown> {
  try {
    return await c.req.json();
  } catch {
    throw new HexEdgeError('INVALID_JSON', 'request body is not valid JSON');
  }
}
