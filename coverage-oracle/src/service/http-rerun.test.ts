import { generateNodeKeyPair } from '@hexedge/protocol';
import { describe, expect, it } from 'vitest';
import { httpReRun } from './http-rerun.ts';

describe('httpReRun', () => {
  it("sends the spot check's trace and the checked request's priority and deadline to the gateway", async () => {
    const oracle = await generateNodeKeyPair();
    const sent: Headers[] = [];
    const reRun = httpReRun({
      oracle,
      gatewayOf: () => 'http://gateway.test',
      fetch: (async (_url: string, init: RequestInit) => {
        sent.push(new Headers(init.headers));
        return new Response('{}', { status: 502 });
      }) as never,
    });
    await expect(
      reRun(
        { nodeId: 'n' },
        { kind: 'domain', modelName: 'm', modelVersion: '1', input: { a: 1 } },
        {
          trace: { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'aaaaaaaaaaaaaaaa', flags: 1 },
          priority: 'low',
          deadlineMs: 1_500,
        },
      ),
    ).rejects.toThrow(/answered HTTP 502/);
    expect(sent[0]!.get('traceparent')).toBe('00-0af7651916cd43dd8448eb211c80319c-aaaaaaaaaaaaaaaa-01');
    expect(sent[0]!.get('x-hexedge-priority')).toBe('low');
    expect(sent[0]!.get('x-hexedge-deadline-ms')).toBe('1500');
    await expect(
      reRun({ nodeId: 'n' }, { kind: 'domain', modelName: 'm', modelVersion: '1', input: 1 }),
    ).rejects.toThrow();
    expect([...sent[1]!.keys()]).toEqual(['content-type']);
  });
});
