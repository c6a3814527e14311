import { oracleServiceConfigSchema } from '@hexedge/coverage-oracle';
import type { RunningOracle } from '@hexedge/coverage-oracle/node';
import {
  buildComfortIndexModel,
  comfortIndexManifest,
  createOipApp,
  GatewayAgent,
  ModelSet,
  nodeConfigSchema,
  type LoadedModel,
  type ModelManifest,
} from '@hexedge/edge-node';
import {
  buildEdgeNode,
  loadNodeKey,
  OrtNodeBackend,
  writeModel,
  type RunningNode,
} from '@hexedge/edge-node/node';
import { gatewayConfigSchema } from '@hexedge/gateway';
import { buildGateway, type RunningGateway } from '@hexedge/gateway/node';
import {
  answerChallenge,
  answerProbe,
  tensorValuesToArray,
  type InferResponse,
  type LatLng,
  type NodeKeyPair,
  type NodeModel,
} from '@hexedge/protocol';
import { listenHttp } from '@hexedge/protocol/node';
import { waitUntil } from '@hexedge/test-kit';
import type { Hono } from 'hono';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { nodeInit } from '../src/commands/node-init.ts';
import { buildOracleDeployable } from '../src/oracle-deployable.ts';

/**
 * A small network for the trust attack tests, every part built by its deployable's own builder on
 * real sockets: the oracle (`hexedge oracle`), the gateway (`hexedge gateway`) serving comfort-index
 * from its origin registry, honest nodes (`hexedge node run`), and attackers wired by hand from the
 * real parts, as an attacker would. Each node listens on its own loopback /24 (127.0.N.1), so the
 * oracle sees distinct network prefixes as it would on the internet.
 */
export const ADMIN_KEY = 'trust-attacks-admin-key-0123';
export const HERE: LatLng = { lat: 52.37, lng: 4.9 };
/**
 * ~660 km from HERE: a claim there is impossible for any loopback round trip under ~6.5 ms, with room
 * for a loaded machine (a claim near HERE verifies up to ~5.4 ms with verifiedWithinKm 500).
 */
export const MUNICH: LatLng = { lat: 48.14, lng: 11.58 };
/** Near HERE: a claim there verifies. */
export const NEAR: LatLng = { lat: 52.36, lng: 4.88 };
/**
 * Near enough to verify. Only ~0.3 ms of network time farther from HERE than a node at HERE: the
 * gateway's measured service times outweigh that, so a node here must also announce BUSY never to
 * be placed first for requests made at HERE.
 */
export const OUT_OF_TOWN: LatLng = { lat: 52.6, lng: 5.2 };
/** A node that announces this much queue is never placement's first choice. */
export const BUSY = (models: Array<Record<string, unknown>>) =>
  models.map((m) => ({ ...m, load: { queueDepth: 500, inFlight: 1, ewmaServiceMs: 50 } })) as never;
/** Output probabilities shifted this much: far beyond comfort-index's 1e-5 tolerance. */
export const TAMPER = 0.25;
export const READINGS = {
  model: 'comfort-index',
  location: HERE,
  inputs: [{ name: 'readings', datatype: 'FP32', shape: [1, 3], data: [29, 55, 900] }],
};

export interface Fabric {
  dir: string;
  oracle: RunningOracle;
  gateway: RunningGateway;
  gatewayUrl: string;
  modelsDir: string;
  manifest: ModelManifest;
  bytes: Uint8Array;
  signal: AbortSignal;
  /** An honest node (`hexedge node run`'s builder) at `place`, on loopback host 127.0.`net`.1. */
  honestNode(options: { name: string; place: LatLng; net: number }): Promise<RunningNode>;
  /** A node wired by the attacker: its own OIP app (or the real one over `model`) and a gateway agent. */
  attackerNode(options: AttackerOptions): Promise<AttackerNode>;
  infer(
    body?: Record<string, unknown>,
  ): Promise<{ status: number; body: InferResponse & { error?: { code: string } } }>;
  oracleReport(nodeId: string): Promise<OracleReport>;
  /** Trust pushes the gateway accepted, in order (recorded on the oracle's side of the wire). */
  pushes: Array<{
    atMs: number;
    scores: Array<{ nodeId: string; score: number; locationVerified: boolean }>;
  }>;
  /** Resolves once the gateway accepted a trust push issued after `afterMs` that names `nodeId`. */
  pushedAfter(options: { nodeId: string; afterMs: number }): Promise<unknown>;
  gatewayNode(nodeId: string): Promise<GatewayNodeView>;
  stop(): Promise<void>;
}

export interface OracleReport {
  trust: { score: number | null; reasons: string[]; scored: boolean };
  verdicts: Array<{
    id: string;
    kind: string;
    status: string;
    reason?: string;
    atMs: number;
    details?: Record<string, unknown>;
  }>;
  spotChecks: Array<{ status: string; reason?: string; details?: Record<string, unknown> }>;
  locationProofs: Array<{ status: string; reason?: string; details?: Record<string, unknown> }>;
  stake: { balanceBaseUnits: string; slashes: Array<{ evidenceId: string; amountBaseUnits: string }> };
  standing?: { verifier: boolean; reasons: string[] };
}

export interface GatewayNodeView {
  id: string;
  locationVerified: boolean;
  trust: { score: number; probation: boolean; reasons: string[] };
}

export interface AttackerOptions {
  name: string;
  place: LatLng;
  net: number;
  /** Wraps the real comfort-index model (e.g. to alter its outputs); the real one when absent. */
  model?: (honest: LoadedModel) => LoadedModel;
  /** Replaces the node's OIP app (a relay, a receipt forger); the real OIP app over `model` when absent. */
  app?: (options: { keys: NodeKeyPair; models: ModelSet; real: Hono }) => Hono;
  /** What the node announces to the gateway; what it serves when absent. */
  announce?: (models: NodeModel[]) => NodeModel[];
  /** Answers the oracle's challenges (default true). */
  answersChallenges?: boolean;
}

export interface AttackerNode {
  nodeId: string;
  keys: NodeKeyPair;
  url: string;
  /** Re-registers at another place (a new claim), as `hexedge node run` with a new location would. */
  move(place: LatLng): Promise<void>;
}

/** Alters every output before it is signed, as a cheating operator would. */
export function tampered(model: LoadedModel, shift = TAMPER): LoadedModel {
  return {
    manifest: model.manifest,
    executionProvider: model.executionProvider,
    release: () => model.release(),
    run: async (inputs, names) =>
      (await model.run(inputs, names)).map((t) => ({
        ...t,
        data: Float32Array.from(tensorValuesToArray(t.data) as number[], (v) => v + shift),
      })),
  };
}

export async function startFabric(options: {
  name: string;
  /** Service keys, and the core's under `oracle` (cli/examples/oracle.yaml). */
  oracle?: Record<string, unknown> & { oracle?: Record<string, unknown> };
  gateway?: Record<string, unknown>;
}): Promise<Fabric> {
  const dir = mkdtempSync(path.join(os.tmpdir(), `hexedge-${options.name}-`));
  const stopping = new AbortController();
  const stack: Array<() => Promise<unknown>> = [];
  const modelsDir = path.join(dir, 'models');
  const bytes = buildComfortIndexModel();
  const manifest = await comfortIndexManifest(bytes);
  await writeModel({ dir: modelsDir, manifest, bytes });

  const { oracle: core, ...service } = options.oracle ?? {};
  const pushes: Fabric['pushes'] = [];
  // The oracle's fetch, watched: which trust pushes the gateway accepted is the marker tests wait on.
  const watchedFetch: typeof fetch = async (input, init) => {
    const res = await fetch(input, init);
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (url.endsWith('/v1/oracle/trust') && res.ok && typeof init?.body === 'string') {
      const { body } = JSON.parse(init.body) as {
        body: { issuedAtMs: number; scores: Fabric['pushes'][number]['scores'] };
      };
      pushes.push({ atMs: body.issuedAtMs, scores: body.scores });
    }
    return res;
  };
  const oracle = await buildOracleDeployable(
    oracleServiceConfigSchema.parse({
      port: 0,
      dataDir: path.join(dir, 'oracle'),
      gatewayUrls: [],
      location: HERE,
      challengeIntervalMs: 0,
      challengersPerNode: 4,
      directoryRefreshMs: 200,
      trustPushIntervalMs: 200,
      fullTrustPushIntervalMs: 1_000,
      exportIntervalMs: 0,
      ...service,
      oracle: {
        samplingRate: 1,
        checkersPerSample: 2,
        minCheckerResponses: 2,
        minChallengers: 1,
        // The oracle's own probe is the one challenger near most claims in this small world: one tight
        // bound verifies (the production default is 2, which a young network cannot give; SECURITY.md).
        minTightChallengers: 1,
        // Loopback round trips are a few ms on a loaded machine: bounds of a few hundred km.
        verifiedWithinKm: 500,
        scoreIntervalMs: 200,
        idleMs: 50,
        ...core,
      },
    }),
    {
      signal: stopping.signal,
      fetch: watchedFetch,
    },
  );
  const gateway = await buildGateway(
    gatewayConfigSchema.parse({
      port: 0,
      dataDir: path.join(dir, 'gateway'),
      modelsDir,
      heartbeatIntervalMs: 1_000,
      allowPrivateNodeAddresses: true,
      ...options.gateway,
      oracle: { url: oracle.url, oracleIds: [oracle.oracleId] },
    }),
    { adminKey: ADMIN_KEY },
    { signal: stopping.signal },
  );
  const gatewayUrl = gateway.url;
  await oracle.addGatewayUrl(gatewayUrl);

  const fabric: Fabric = {
    dir,
    oracle,
    gateway,
    gatewayUrl,
    modelsDir,
    manifest,
    bytes,
    signal: stopping.signal,
    pushes,
    pushedAfter: ({ nodeId, afterMs }) =>
      waitUntil(`a trust push naming ${nodeId.slice(0, 8)}… after ${afterMs}`, () =>
        pushes.some((p) => p.atMs > afterMs && p.scores.some((s) => s.nodeId === nodeId)),
      ),
    async honestNode({ name, place, net }) {
      const dataDir = path.join(dir, 'nodes', name);
      await nodeInit({ dataDir, ...place, gatewayUrl });
      const config = nodeConfigSchema.parse({
        location: place,
        gatewayUrl,
        host: `127.0.${net}.1`,
        port: 0,
        modelsDir,
        oracleIds: [oracle.oracleId],
      });
      return buildEdgeNode(config, { dataDir, signal: stopping.signal });
    },
    async attackerNode(a) {
      const dataDir = path.join(dir, 'nodes', a.name);
      await nodeInit({ dataDir, ...a.place, gatewayUrl });
      const keys = await loadNodeKey(dataDir);
      let place = a.place;
      const models = new ModelSet({ scheduler: { maxQueueDelayUs: 500 } });
      const real = await (await OrtNodeBackend.create()).load({ manifest, bytes });
      models.add(a.model ? a.model(real) : real);
      const realApp = createOipApp({
        models,
        keys,
        isReady: () => true,
        oracle: {
          answerChallenge: async (raw) => ((a.answersChallenges ?? true) ? answerChallenge(raw, keys) : null),
          answerProbe: (raw) =>
            answerProbe(raw, { node: keys, location: place, oracleIds: [oracle.oracleId], fetch }),
        },
      });
      const app = a.app ? a.app({ keys, models, real: realApp }) : realApp;
      const listener = await listenHttp({ app, port: 0, host: `127.0.${a.net}.1` });
      stack.push(async () => (await listener.close(), await models.releaseAll()));
      let current: { agent: GatewayAgent; stop: AbortController; running: Promise<void> } | undefined;
      const register = async () => {
        const stop = new AbortController();
        const agent = new GatewayAgent({
          gatewayUrl,
          keys,
          publicUrl: listener.url,
          location: place,
          hardware: { cpuCores: 1, memoryMb: 512, executionProviders: ['cpu'] },
          models: () => (a.announce ? a.announce(models.describe()) : models.describe()),
          log: () => {},
        });
        current = { agent, stop, running: agent.run(AbortSignal.any([stopping.signal, stop.signal])) };
        await waitUntil(`${a.name} to register`, () => agent.registered);
      };
      stack.push(async () => (current?.stop.abort(), await current?.running));
      await register();
      return {
        nodeId: keys.nodeId,
        keys,
        url: listener.url,
        async move(to) {
          current!.stop.abort();
          await current!.running;
          place = to;
          await register();
        },
      };
    },
    async infer(body = {}) {
      const res = await fetch(`${gatewayUrl}/v1/infer`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ ...READINGS, ...body }),
      });
      return { status: res.status, body: (await res.json()) as InferResponse & { error?: { code: string } } };
    },
    async oracleReport(nodeId) {
      return (await (await fetch(`${oracle.url}/v1/oracle/nodes/${nodeId}`)).json()) as OracleReport;
    },
    async gatewayNode(nodeId) {
      return (await (await fetch(`${gatewayUrl}/v1/nodes/${nodeId}`)).json()) as GatewayNodeView;
    },
    async stop() {
      // The oracle first, so no spot check or challenge is in flight towards a node that is shutting down.
      await oracle.stop();
      stopping.abort();
      for (const close of stack.reverse()) await close().catch(() => {});
      await gateway.closed.catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return fabric;
}

/** Waits until the oracle's directory lists `count` nodes (it reads the gateway's node list). */
export function oracleListsNodes(fabric: Fabric, count: number): Promise<true> {
  return waitUntil(
    `the oracle to list ${count} nodes`,
    () => fabric.oracle.service.directory.listNodes().length >= count,
  );
}
