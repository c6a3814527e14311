import {
  GATEWAY_IDENTITY_PATH,
  gatewayIdentitySchema,
  MAX_GATEWAY_KEYS,
  readBoundedBody,
} from '@hexedge/protocol';

/** A gateway that has not answered its identity within this long is taken as down (the read fails). */
export const IDENTITY_TIMEOUT_MS = 5_000;
/**
 * The largest identity answer read: MAX_GATEWAY_KEYS keys of 43 characters plus the other fields are
 * ~1 KiB; past this the answer is refused and the rest cancelled, not buffered.
 */
export const MAX_IDENTITY_BYTES = 16 * 1024;

/**
 * The keys a gateway signs with now (`GET {gatewayUrl}/v1/gateway/identity`): `reporterIds` (every
 * instance behind the URL) with `reporterId`, or `reporterId` alone from an older gateway. Throws,
 * naming what was wrong, for an answer that is not 200, not the schema, larger than
 * MAX_IDENTITY_BYTES, or not complete within IDENTITY_TIMEOUT_MS (a gateway that drips its answer
 * cannot hold the read open).
 */
export async function readGatewayKeys(options: {
  gatewayUrl: string;
  fetch: typeof fetch;
}): Promise<string[]> {
  const url = new URL(GATEWAY_IDENTITY_PATH, options.gatewayUrl).href;
  const abort = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  // setTimeout rather than AbortSignal.timeout: the deadline holds even for a fetch that ignores its
  // signal, and tests drive it with fake timers.
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const err = new Error(`no complete answer within ${IDENTITY_TIMEOUT_MS} ms`);
      abort.abort(err);
      reject(err);
    }, IDENTITY_TIMEOUT_MS);
  });
  try {
    return await Promise.race([read(url, options.fetch, abort.signal), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

async function read(url: string, fetchFn: typeof fetch, signal: AbortSignal): Promise<string[]> {
  const res = await fetchFn(url, { signal });
  if (!res.ok) {
    await res.body?.cancel().catch(() => {});
    throw new Error(`HTTP ${res.status}`);
  }
  const bytes = await readBoundedBody(res, { maxBytes: MAX_IDENTITY_BYTES, what: 'the identity answer' });
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new Error('the identity answer is not JSON');
  }
  const parsed = gatewayIdentitySchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`the identity answer is refused: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const keys = new Set([parsed.data.reporterId, ...(parsed.data.reporterIds ?? [])]);
  if (keys.size > MAX_GATEWAY_KEYS)
    throw new Error(`the identity answer lists ${keys.size} keys, more than ${MAX_GATEWAY_KEYS}`);
  return [...keys];
}
