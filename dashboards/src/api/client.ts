/** An answer the gateway refused: its `{ error: { code, message } }` with the HTTP status. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(options: { status: number; code: string; message: string }) {
    super(options.message);
    this.status = options.status;
    this.code = options.code;
  }

  /** 401/403: the key is missing, wrong, revoked or not allowed here. */
  get isRefusal(): boolean {
    return this.status === 401 || this.status === 403;
  }
}

/** The gateway's origin: the page is served by the gateway at /dashboard/, so same origin. */
export const apiBase = (): string => location.origin;

/** GET a gateway endpoint as JSON, sending the key as a bearer token when given. */
export async function getJson<T>(path: string, options: { key?: string; signal?: AbortSignal } = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.key) headers.authorization = `Bearer ${options.key}`;
  const res = await fetch(`${apiBase()}${path}`, { headers, ...(options.signal ? { signal: options.signal } : {}) });
  const body = (await res.json().catch(() => null)) as { error?: { code?: string; message?: string } } | null;
  if (!res.ok) {
    throw new ApiError({ status: res.status, code: body?.error?.code ?? `HTTP_${res.status}`, message: body?.error?.message ?? `${res.status} ${res.statusText}` });
  }
  return body as T;
}
