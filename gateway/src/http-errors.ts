import { HexEdgeError, isHexEdgeError } from '@hexedge/protocol';
import type { Context } from 'hono';
import { setRetryHeaders } from './auth.ts';

/**
 * The error a request is answered with (an unexpected one is logged and becomes INTERNAL) and its
 * `{ error: { code, message, requestId } }` body. Shared by `errorResponse` and the Node listener's
 * direct infer path, so both answer alike.
 */
export function errorOf(
  err: unknown,
  requestId: string | undefined,
): { error: HexEdgeError; body: ReturnType<HexEdgeError['toBody']> } {
  const e = isHexEdgeError(err) ? err : new HexEdgeError('INTERNAL', 'internal error');
  if (!isHexEdgeError(err))
    console.error(JSON.stringify({ level: 'error', requestId, msg: 'unexpected error', error: String(err) }));
  const body = e.toBody();
  if (requestId) (body.error as Record<string, unknown>).requestId = requestId;
  return { error: e, body };
}

/** Every error leaves the gateway as `{ error: { code, message, requestId } }` with the code's status. */
export function errorResponse(c: Context, err: unknown): Response {
  const { error, body } = errorOf(err, c.get('requestId') as string | undefined);
  setRetryHeaders(c, error);
  return c.json(body, error.httpStatus as 400);
}

export async function readJsonBody(c: Context): Promise<unknown> {
  try {
    return await c.req.json();
  } catch {
    throw new HexEdgeError('INVALID_JSON', 'request body is not valid JSON');
  }
}
