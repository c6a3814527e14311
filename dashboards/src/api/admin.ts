import { ApiError, apiBase } from './client.ts';

/** POST a JSON body to a gateway endpoint with the key (the rollout view's promote and abort). */
export async function postJson<T>(path: string, options: { key: string; body?: unknown }): Promise<T> {
  const res = await fetch(`${apiBase()}${path}`, {
    method: 'POST',
    headers: {
      accept: 'application/json',
      authorization: `Bearer ${options.key}`,
      'content-type': 'application/json',
    },
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
  });
  const body = (await res.json().catch(() => null)) as { error?: { code?: string; message?: string } } | null;
  if (!res.ok)
    throw new ApiError({
      status: res.status,
      code: body?.error?.code ?? `HTTP_${res.status}`,
      message: body?.error?.message ?? `${res.status} ${res.statusText}`,
    });
  return body as T;
}
