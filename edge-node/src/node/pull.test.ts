import { serve, type ServerType } from '@hono/node-server';
import { generateNodeKeyPair } from '@hexedge/protocol';
import { Hono } from 'hono';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildComfortIndexModel, comfortIndexManifest } from '../models/comfort-index.ts';
import type { ModelManifest } from '../models/manifest.ts';
import { createOipApp } from '../server/oip-app.ts';
import { ModelSet } from '../server/model-set.ts';
import { ModelDirArtifacts } from './artifact-index.ts';
import { readModelDir } from '@hexedge/protocol/node';
import { pullModel, type PullProgressEvent } from './pull.ts';
import type { PullSource } from '../store/pull-sources.ts';
import { writeModel } from '@hexedge/protocol/node';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'hexedge-pull-'));
const closers: (() => void)[] = [];
let bytes: Uint8Array;
let manifest: ModelManifest;
let goodPeer: string;
let emptyPeer: string;
let app: ReturnType<typeof createOipApp>;

function listen(fetchApp: { fetch: (r: Request) => Response | Promise<Response> }): Promise<string> {
  return new Promise((resolve) => {
    const server: ServerType = serve({ fetch: fetchApp.fetch, port: 0, hostname: '127.0.0.1' }, (info) =>
      resolve(`http://127.0.0.1:${info.port}`),
    );
    closers.push(() => server.close());
  });
}

/** A peer that answers every artifact request with the given bytes (and the true manifest). */
function rawPeer(body: () => Uint8Array): Promise<string> {
  return new Promise((resolve) => {
    const server: Server = createServer((req, res) => {
      if (req.url!.endsWith('/manifest')) return void res.end(JSON.stringify(manifest));
      res.end(body());
    }).listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
    closers.push(() => server.close());
  });
}

/** A URL nothing listens on: bind a port, then let it go. */
function downPeer(): Promise<string> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      server.close(() => resolve(url));
    });
  });
}

const peer = (url: string): PullSource => ({ kind: 'peer', url });
const freshDir = (name: string) => path.join(tmp, name);

beforeAll(async () => {
  bytes = new Uint8Array(buildComfortIndexModel()); // protobufjs hands out a Buffer
  manifest = await comfortIndexManifest(bytes);
  const held = path.join(tmp, 'held');
  await writeModel({ dir: held, manifest, bytes });
  const keys = await generateNodeKeyPair();
  app = createOipApp({
    models: new ModelSet(),
    keys,
    isReady: () => true,
    artifacts: new ModelDirArtifacts((await readModelDir(held)).artifacts),
  });
  goodPeer = await listen(app);
  emptyPeer = await listen(
    createOipApp({ models: new ModelSet(), keys, isReady: () => true, artifacts: new ModelDirArtifacts() }),
  );
});
afterAll(() => {
  for (const close of closers) close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('artifact routes', () => {
  it('serves held bytes with content-length, ETag = content id and immutable caching', async () => {
    const res = await fetch(`${goodPeer}/v1/artifacts/${manifest.contentId}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
    expect(res.headers.get('content-length')).toBe(String(bytes.byteLength));
    expect(res.headers.get('etag')).toBe(`"${manifest.contentId}"`);
    expect(res.headers.get('cache-control')).toMatch(/immutable/);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(bytes);
    const again = await fetch(`${goodPeer}/v1/artifacts/${manifest.contentId}`, {
      headers: { 'if-none-match': `"${manifest.contentId}"` },
    });
    expect(again.status).toBe(304);
    const m = await fetch(`${goodPeer}/v1/artifacts/${manifest.contentId}/manifest`);
    expect(await m.json()).toEqual(manifest);
  });

  it('answers 404 for an id it does not hold and 400 for a malformed id', async () => {
    const missing = await app.request(`/v1/artifacts/${'0'.repeat(64)}`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({
      code: 'MODEL_NOT_FOUND',
      error: `no artifact with content id ${'0'.repeat(64)} is held here`,
    });
    expect((await app.request(`/v1/artifacts/${'0'.repeat(64)}/manifest`)).status).toBe(404);
    for (const bad of ['abc', 'A'.repeat(64), `${'0'.repeat(63)}g`]) {
      const res = await app.request(`/v1/artifacts/${bad}`);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { code: string }).code).toBe('INVALID_REQUEST');
    }
  });
});

describe('pullModel', () => {
  it('pulls by content id from a peer, hash-checked, into the models directory', async () => {
    const dir = freshDir('ok');
    const events: PullProgressEvent['phase'][] = [];
    const result = await pullModel({
      ref: manifest.contentId,
      sources: [peer(goodPeer)],
      modelsDir: dir,
      onProgress: (e) => events.push(e.phase),
    });
    expect(result.source?.url).toBe(goodPeer);
    expect(events[0]).toBe('start');
    expect(events.at(-1)).toBe('end');
    const { artifacts } = await readModelDir(dir);
    expect(artifacts.map((a) => a.manifest.contentId)).toEqual([manifest.contentId]);
    // Held now: a second pull asks nobody.
    expect(
      (await pullModel({ ref: manifest.contentId, sources: [], modelsDir: dir })).source,
    ).toBeUndefined();
  });

  it('refuses corrupted bytes, oversize bodies, a down peer and a 404, and falls back to the next source', async () => {
    const corrupted = await rawPeer(() => Uint8Array.from(bytes, (b, i) => (i === 10 ? b ^ 1 : b)));
    const oversize = await rawPeer(() => Uint8Array.from([...bytes, ...bytes]));
    const down = await downPeer();
    const dir = freshDir('fallback');
    const result = await pullModel({
      ref: manifest,
      sources: [peer(corrupted), peer(oversize), peer(down), peer(emptyPeer), peer(goodPeer)],
      modelsDir: dir,
    });
    expect(result.attempts.map((a) => a.outcome)).toEqual([
      'hash-mismatch',
      'too-large',
      'unreachable',
      'not-found',
      'ok',
    ]);
    expect(result.source?.url).toBe(goodPeer);
    expect((await readModelDir(dir)).artifacts).toHaveLength(1);
  });

  it('gives up on a peer that stalls mid-transfer and moves on', async () => {
    const stalling = await new Promise<string>((resolve) => {
      const server: Server = createServer((_req, res) => {
        res.writeHead(200, { 'content-length': String(bytes.byteLength) });
        res.write(bytes.slice(0, 10)); // …and then nothing
      }).listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
      closers.push(() => (server.closeAllConnections(), server.close()));
    });
    const result = await pullModel({
      ref: manifest,
      sources: [peer(stalling), peer(goodPeer)],
      modelsDir: freshDir('stall'),
      timeoutMs: 300,
    });
    expect(result.attempts.map((a) => `${a.outcome}: ${a.message}`)).toEqual([
      'timed-out: sent nothing for 300 ms',
      `ok: ${bytes.byteLength} bytes, hash verified`,
    ]);
  });

  it('resolves name@version through the origin catalog and falls back to the origin for bytes', async () => {
    // The gateway's origin registry, as its routes answer (gateway/src/routes/models.ts).
    const origin = await listen(
      new Hono()
        .get('/v1/models', (c) =>
          c.json({
            models: [{ name: manifest.name, version: manifest.version, contentId: manifest.contentId }],
          }),
        )
        .get('/v1/models/:id/manifest', (c) =>
          c.req.param('id') === manifest.contentId ? c.json(manifest) : c.json({ error: {} }, 404),
        )
        .get('/v1/models/:id/artifact', () => new Response(bytes as Uint8Array<ArrayBuffer>)),
    );
    const result = await pullModel({
      ref: 'comfort-index@1',
      sources: [peer(emptyPeer), { kind: 'origin', url: origin }],
      modelsDir: freshDir('origin'),
    });
    expect(result.attempts.map((a) => a.outcome)).toEqual(['not-found', 'ok']);
    expect(result.source).toEqual({ kind: 'origin', url: origin });
    const missing = await pullModel({
      ref: 'comfort-index@9',
      sources: [{ kind: 'origin', url: origin }],
      modelsDir: freshDir('origin9'),
    }).catch((e: Error) => e);
    expect((missing as Error).message).toMatch(/no comfort-index@9 in its catalog \(versions: 1\)/);
  });

  it('writes nothing when every source fails, and says why for each', async () => {
    const corrupted = await rawPeer(() => bytes.slice(0, -1));
    const dir = freshDir('none');
    const err = await pullModel({
      ref: manifest.contentId,
      sources: [peer(corrupted), peer(emptyPeer)],
      modelsDir: dir,
    }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(
      /could not pull comfort-index@1 .*sent \d+ of \d+ bytes.*not held there \(404\)/,
    );
    expect(() => readdirSync(dir)).toThrow(/ENOENT/);
  });

  it('refuses a manifest over the size cap before asking any source for bytes', async () => {
    const err = await pullModel({
      ref: manifest,
      sources: [peer(goodPeer)],
      modelsDir: freshDir('cap'),
      maxSizeBytes: 100,
    }).catch((e: Error) => e);
    expect((err as Error).message).toMatch(/over the 100-byte limit/);
  });
});
