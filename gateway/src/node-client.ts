import type { OipInferenceRequest } from '@hexedge/protocol';

/** What a node answered: its HTTP status and parsed JSON body (or null when it was not JSON). */
export interface NodeAnswer {
  status: number;
  body: unknown;
}

/**
 * How the gateway reaches an edge node's OIP server. The core uses this interface; the default uses
 * `fetch` (every runtime has it); the gateway issue brings a pooled keep-alive client for Node.
 */
export interface NodeClient {
  infer(options: { nodeUrl: string; model: string; version: string; request: OipInferenceRequest; timeoutMs: number }): Promise<NodeAnswer>;
}

export const fetchNodeClient: NodeClient = {
  async infer({ nodeUrl, model, version, request, timeoutMs }) {
    const url = `${nodeUrl}/v2/models/${encodeURIComponent(model)}/versions/${encodeURIComponent(version)}/infer`;
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(request),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    let body: unknown = null;
    try {
      body = JSON.parse(text);
    } catch {
      body = null;
    }
    return { status: res.status, body };
  },
};
