import { describe, expect, it, vi } from 'vitest';
import { inProcessConnection } from './mqtt-in-process.ts';

const read = (end: ReturnType<typeof inProcessConnection>[number]) => {
  const got: Buffer[] = [];
  end.on('data', (chunk: Buffer) => got.push(chunk));
  return () => Buffer.concat(got).toString('utf8');
};

describe('inProcessConnection', () => {
  it('carries bytes both ways, in order', async () => {
    const [client, server] = inProcessConnection();
    const atServer = read(server);
    const atClient = read(client);
    for (const part of ['a', 'bc', 'def']) client.write(part);
    server.write(Buffer.from('xyz'));
    await vi.waitFor(() => expect(atServer()).toBe('abcdef'));
    await vi.waitFor(() => expect(atClient()).toBe('xyz'));
  });

  it('delivers corked writes as one chunk', async () => {
    const [client, server] = inProcessConnection();
    const chunks: Buffer[] = [];
    server.on('data', (c: Buffer) => chunks.push(c));
    client.cork();
    client.write('head');
    client.write('body');
    client.uncork();
    await vi.waitFor(() => expect(chunks.map(String)).toEqual(['headbody']));
  });

  it('holds the writer back while the reader does not read (backpressure), then lets it go', async () => {
    const [client, server] = inProcessConnection();
    const big = Buffer.alloc(64 * 1024, 1);
    let accepted = 0;
    while (client.write(big)) accepted++;
    // The reader has not read: writes beyond its buffer wait instead of piling up unbounded.
    expect(accepted).toBeLessThan(4);
    const drained = new Promise<void>((resolve) => client.once('drain', () => resolve()));
    let total = 0;
    server.on('data', (c: Buffer) => (total += c.length));
    await drained;
    expect(total).toBeGreaterThanOrEqual((accepted + 1) * big.length);
  });

  it.each(['client', 'server'] as const)('closes both ends when the %s end is destroyed', async (which) => {
    const [client, server] = inProcessConnection();
    const closed = Promise.all(
      [client, server].map((end) => new Promise<void>((resolve) => end.once('close', () => resolve()))),
    );
    (which === 'client' ? client : server).destroy();
    await closed;
    expect(client.destroyed && server.destroyed).toBe(true);
  });

  it('ends the reader when the writer ends', async () => {
    const [client, server] = inProcessConnection();
    const ended = new Promise<void>((resolve) => server.once('end', () => resolve()));
    server.resume();
    client.end('last');
    await ended;
  });
});
