import { MAX_NODE_ANSWER_BYTES, readBoundedBody } from '@hexedge/protocol';

/** What a node answered: its HTTP status and parsed JSON body (or null when it was not JSON). */
export interface NodeAnswer {
  status: number;
  body: unknown;
}

/**
 * How the gateway reaches an edge node. The core uses this interface; the default uses `fetch`
 * (every runtime has it); the Node adapter supplies a pooled keep-alive client (undici `Pool`).
 */
export interface NodeClient {
  /** `headers`: the forward signature nodes check (besides the content type). */
  post(options: { url: string; body: string; signal: AbortSignal; headers?: Record<string, string> }): Promise<NodeAnswer>;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

const decoder = new TextDecoder();

/**
 * The runtime-neutral client (the Worker's): `fetch`, answers read up to MAX_NODE_ANSWER_BYTES. Node
 * URLs are checked at registration (node-urls.ts); a Worker cannot reach private addresses anyway.
 */
export const fetchNodeClient: NodeClient = {
  async post({ url, body, signal, headers }) {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
      signal,
    });
    const bytes = await readBoundedBody(res, { maxBytes: MAX_NODE_ANSWER_BYTES, what: 'node answer' });
    return { status: res.status, body: parseJson(decoder.decode(bytes)) };
  },
};

export { parseJson };
