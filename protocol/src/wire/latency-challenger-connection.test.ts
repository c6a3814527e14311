import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateNodeKeyPair, type NodeKeyPair } from '../identity.ts';
import { useNodeEd25519 } from '../node/ed25519.ts';
import { ed25519Engine, useEd25519Engine, type Ed25519Engine } from '../signing.ts';
import { answerChallenge, CHALLENGE_PATH } from './latency-challenge.ts';
import { DEFAULT_EXCHANGES_PER_CHALLENGE, LatencyChallenger } from './latency-challenger.ts';

// Against a real socket and the runtime's own fetch (undici): the fastest-of-N rule only works if the
// exchanges after the first reuse the first one's connection; an exchange on a new connection pays the
// handshake's round trip and bounds the node to twice its distance.
describe('LatencyChallenger over real sockets', () => {
  let server: Server;
  let url: string;
  let node: NodeKeyPair;
  const connections: number[] = [];
  const answered: string[] = [];
  let previous: Ed25519Engine;

  beforeAll(async () => {
    // As the edge node runs its challenges (build-node: libsodium, whose checks settle without a
    // turn of the event loop, unlike WebCrypto's, which hid the bug).
    previous = ed25519Engine();
    useNodeEd25519();
    node = await generateNodeKeyPair();
    server = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => (body += chunk));
      req.on('end', () => {
        void answerChallenge(JSON.parse(body), node).then((answer) => {
          if (req.url !== CHALLENGE_PATH || !answer) return res.writeHead(400).end();
          answered.push(answer.body.nonce);
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
        });
      });
    });
    server.on('connection', (socket) => connections.push(socket.remotePort ?? 0));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    useEd25519Engine(previous);
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('sends every exchange of a challenge over the one connection the first opened', async () => {
    const challenger = new LatencyChallenger({
      keys: await generateNodeKeyPair(),
      location: { lat: 52.09, lng: 5.12 },
      fetch,
    });
    const outcome = await challenger.challenge({ nodeId: node.nodeId, url });
    expect(outcome).toMatchObject({ ok: true });
    expect(answered).toHaveLength(DEFAULT_EXCHANGES_PER_CHALLENGE);
    // Without a turn of the event loop between exchanges the second found the first connection still
    // held by fetch and opened another: 2 connections for 3 exchanges.
    expect(connections).toHaveLength(1);
  });
});
