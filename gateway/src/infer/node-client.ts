import {
  FORWARD_MAC_ACCEPTED_HEADER,
  FORWARD_MAC_VERSION,
  MAX_NODE_ANSWER_BYTES,
  readBoundedBody,
} from '@hexedge/protocol';
import { decodeNodeAnswer, HEADER_LENGTH_HEADER, parseJson } from './binary-tensors.ts';

/**
 * What a node answered: its HTTP status and body, parsed (JSON, or a binary-extension answer decoded
 * by `decodeNodeAnswer`: binary outputs' data as typed arrays), or null when it did not parse.
 */
export interface NodeAnswer {
  status: number;
  body: unknown;
  /** The node said it takes forward MACs (protocol's FORWARD_MAC_ACCEPTED_HEADER, this version). */
  acceptsForwardMac?: boolean;
}

/**
 * How the gateway reaches an edge node. The core uses this interface; the default uses `fetch`
 * (every runtime has it); the Node adapter supplies a pooled keep-alive client (undici `Pool`).
 */
export interface NodeClient {
  /**
   * `headers`: the content type and, for a binary-extension body, its `Inference-Header-Content-Length`
   * (JSON when absent), and the forward signature nodes check.
   */
  post(options: {
    url: string;
    body: string | Uint8Array;
    signal: AbortSignal;
    headers?: Record<string, string>;
  }): Promise<NodeAnswer>;
}

/**
 * The runtime-neutral client (the Worker's): `fetch`, answers read up to MAX_NODE_ANSWER_BYTES. Node
 * URLs are checked at registration (node-urls.ts); a Worker cannot reach private addresses anyway.
 */
export const fetchNodeClient: NodeClient = {
  async post({ url, body, signal, headers }) {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: body as BodyInit,
      signal,
    });
    const bytes = await readBoundedBody(res, { maxBytes: MAX_NODE_ANSWER_BYTES, what: 'node answer' });
    return {
      status: res.status,
      body: decodeNodeAnswer(bytes, res.headers.get(HEADER_LENGTH_HEADER) ?? undefined),
      ...(res.headers.get(FORWARD_MAC_ACCEPTED_HEADER) === FORWARD_MAC_VERSION
        ? { acceptsForwardMac: true }
        : {}),
    };
  },
};

export { parseJson };
