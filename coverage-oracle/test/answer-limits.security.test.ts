import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryDirectory } from '../src/directory.ts';
import type { IngestResult } from '../src/ingest/ingest.ts';
import { ChallengeScheduler, MAX_CHALLENGE_ANSWER_BYTES } from '../src/service/challenge-scheduler.ts';
import { httpReRun } from '../src/service/http-rerun.ts';
import { keys } from './fixtures/reports.ts';

/*
 * A hostile node answering a spot-check re-run or a latency challenge with an endless body: the oracle
 * reads no more than an answer can be, then hangs up (real sockets, a real HTTP server).
 */
const JUNK_BYTES = 64 * 1024 * 1024;
let server: Server;
let url: string;
/** Bytes the server managed to hand to the socket per request path before the client went away. */
const written = new Map<string, number>();

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json' });
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    let sent = 0;
    const pump = () => {
      while (sent < JUNK_BYTES) {
        sent += chunk.length;
        written.set(req.url!, sent);
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      res.end();
    };
    res.on('close', () => (sent = JUNK_BYTES));
    pump();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

describe('answers the oracle reads from nodes are bounded', () => {
  it('refuses a re-run answer past its cap without reading the rest', async () => {
    // Re-runs go through the gateway that lists the checker (as live traffic); here it answers endlessly.
    const [oracle, checker] = await keys(2);
    const reRun = httpReRun({ fetch, oracle: oracle!, gatewayOf: () => url, timeoutMs: 10_000, maxAnswerBytes: 1024 * 1024 });
    await expect(
      reRun({ nodeId: checker!.nodeId, url }, { kind: 'domain', modelName: 'm', modelVersion: '1', input: {} }),
    ).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    expect(written.get('/v1/oracle/rerun')).toBeLessThan(16 * 1024 * 1024);
  });

  it('reads a challenge answer no further than MAX_CHALLENGE_ANSWER_BYTES', async () => {
    const [oracle, target] = await keys(2);
    const directory = new MemoryDirectory();
    directory.putNode({ nodeId: target!.nodeId, location: { lat: 52.37, lng: 4.9 }, url, models: [] });
    const submitted: unknown[] = [];
    const scheduler = new ChallengeScheduler({
      oracle: oracle!,
      location: { lat: 52.37, lng: 4.91 },
      directory,
      isVerifier: () => false,
      operatorOf: () => undefined,
      submit: async (reports) => (
        submitted.push(...reports),
        reports.map(() => ({ accepted: true, seq: 1, type: 'location' }) as IngestResult)
      ),
      fetch,
      intervalMs: 1,
      timeoutMs: 5_000,
    });
    await scheduler.tick(Date.now());
    expect(submitted).toHaveLength(1);
    expect((submitted[0] as { body: { answered: boolean } }).body.answered).toBe(false);
    expect(written.get('/v1/oracle/challenge')).toBeLessThan(MAX_CHALLENGE_ANSWER_BYTES + 16 * 1024 * 1024);
  });
});
