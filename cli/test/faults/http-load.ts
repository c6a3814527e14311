import { ADMIN_KEY, inferBody } from './fabric.ts';

export interface HttpOutcome {
  startedAtMs: number;
  latencyMs: number;
  /** HTTP status; 0 when no answer came back at all (connection refused, client timeout). */
  status: number;
  nodeId?: string;
  errorCode?: string;
  errorMessage?: string;
}

/**
 * POST /v1/infer once. `deadlineMs` goes into the request's policy (the gateway answers 504 past it);
 * the client gives up a second later, so a hung gateway shows up as status 0, not a hung test.
 */
export async function inferOnce(options: { gatewayUrl: string; deadlineMs: number; apiKey?: string; policy?: Record<string, unknown>; id?: string }): Promise<HttpOutcome> {
  const startedAtMs = Date.now();
  const t0 = performance.now();
  try {
    const res = await fetch(`${options.gatewayUrl}/v1/infer`, {
      method: 'POST',
      headers: { authorization: `Bearer ${options.apiKey ?? ADMIN_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify(inferBody({ policy: { deadlineMs: options.deadlineMs, ...options.policy }, ...(options.id ? { id: options.id } : {}) })),
      signal: AbortSignal.timeout(options.deadlineMs + 1_000),
    });
    const body = (await res.json()) as { node?: { id: string }; error?: { code: string; message: string } };
    return { startedAtMs, latencyMs: performance.now() - t0, status: res.status, ...(body.node ? { nodeId: body.node.id } : {}), ...(body.error ? { errorCode: body.error.code, errorMessage: body.error.message } : {}) };
  } catch (err) {
    return { startedAtMs, latencyMs: performance.now() - t0, status: 0, errorMessage: (err as Error).message };
  }
}

/**
 * Closed-loop load: `concurrency` workers send requests back to back until `totalRequests` are sent
 * or `maxDurationMs` has passed, whichever comes first. `onProgress` runs after each answer (a
 * scenario injects its fault from there, once enough traffic is flowing).
 */
export async function runHttpLoad(options: {
  gatewayUrl: string;
  concurrency: number;
  totalRequests: number;
  maxDurationMs: number;
  deadlineMs: number;
  policy?: Record<string, unknown>;
  pauseMs?: number;
  onProgress?: (done: HttpOutcome[]) => void;
}): Promise<HttpOutcome[]> {
  const outcomes: HttpOutcome[] = [];
  const stopAtMs = Date.now() + options.maxDurationMs;
  let sent = 0;
  const worker = async () => {
    while (sent < options.totalRequests && Date.now() < stopAtMs) {
      sent++;
      outcomes.push(await inferOnce({ gatewayUrl: options.gatewayUrl, deadlineMs: options.deadlineMs, ...(options.policy ? { policy: options.policy } : {}) }));
      options.onProgress?.(outcomes);
      if (options.pauseMs) await new Promise((r) => setTimeout(r, options.pauseMs));
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  return outcomes;
}

/** A client-side error is "clear" when the gateway answered with a documented code and a message. */
export const isClearError = (o: HttpOutcome) => o.status >= 400 && typeof o.errorCode === 'string' && typeof o.errorMessage === 'string' && o.errorMessage.length > 0;
