import { createClient, verifyReceipt, type InferRequest, type InferResponse } from '@hexedge/client';

/**
 * POST { gatewayUrl, apiKey, request }: infers through @hexedge/client from inside a Worker (workerd's
 * fetch, WebCrypto, AbortSignal), then checks the receipt offline there, and a tampered copy.
 */
export default {
  async fetch(req: Request): Promise<Response> {
    const { gatewayUrl, apiKey, request } = (await req.json()) as {
      gatewayUrl: string;
      apiKey: string;
      request: InferRequest;
    };
    const client = createClient({ baseUrl: gatewayUrl, apiKey, timeoutMs: 10_000 });
    const answer = await client.infer(request);
    const verdict = await verifyReceipt({ request, response: answer });
    const tampered: InferResponse = structuredClone(answer);
    tampered.outputs![0]!.data[0] = 0.99;
    const tamperedVerdict = await verifyReceipt({ request, response: tampered });
    const late = await client
      .request('get', '/v1/events/network', { timeoutMs: 200 })
      .catch((e: { code?: string }) => e.code);
    return Response.json({
      nodeId: answer.node.id,
      valid: verdict.valid,
      tampered: tamperedVerdict.valid ? 'accepted' : tamperedVerdict.problem,
      late,
      // Which runtime ran it (wrangler's bundle pins navigator.userAgent to "Cloudflare-Workers").
      runtime: 'WebSocketPair' in globalThis ? 'workerd' : 'document' in globalThis ? 'browser' : 'other',
    });
  },
};
