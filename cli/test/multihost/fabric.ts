import { buildComfortIndexModel, comfortIndexManifest } from '@hexedge/edge-node';
import { writeModel } from '@hexedge/edge-node/node';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { mosquittoBinary } from '../faults/mosquitto.ts';
import { startProcess, waitUntil, type Proc } from '@hexedge/test-kit';
import {
  ADMIN_KEY,
  configureNode,
  GATEWAY_MQTT_PASSWORD,
  gatewayYaml,
  oracleYaml,
  PORTS,
  writeBrokerFiles,
} from './configs.ts';
import {
  inNamespace,
  raisePriority,
  runHexedge,
  startAgent,
  startHexedgeIn,
  type Agent,
  type FetchResult,
} from './hosts.ts';
import {
  addNamespace,
  plugTap,
  removeNamespace,
  runPrefix,
  RUN_DIR_PREFIX,
  sweepLeftovers,
  trapCleanup,
  type HostNet,
} from './netns.ts';
import { startSwitch, type RunningSwitch } from './switch.ts';
import {
  addressOf,
  CITIES,
  delayMatrixMs,
  HOSTS,
  SUBNET_BITS,
  verifiedWithinKmFor,
  type HostSpec,
} from './world.ts';

export interface Host extends HostSpec, HostNet {
  index: number;
}

export interface RunningNode {
  host: Host;
  nodeId: string;
  url: string;
  proc: Proc;
}

export interface ListedNode {
  id: string;
  url: string;
  lat: number;
  lng: number;
  locationVerified: boolean;
}

/**
 * The whole emulated network and every process on it. `build()` may fail half-way; `teardown()`
 * removes whatever was made (processes, switch, namespaces, files), a trap does the same if the test
 * process exits without reaching afterAll, and the switch does it if the test process is killed.
 */
/** The oracle operator's anchors (surveyed sites): Amsterdam, Frankfurt, Milan and Bergamo; Rotterdam and Mainz are third parties verified by them. */
export const ANCHOR_KEYS = ['ams', 'fra', 'mil', 'ber'] as const;

export class Fabric {
  readonly prefix = runPrefix();
  readonly hosts: Host[];
  dir = '';
  switch: RunningSwitch | undefined;
  oracleId = '';
  readonly url = { gateway: '', oracle: '', broker: '' };
  readonly nodes: RunningNode[] = [];
  readonly agents = new Map<string, Agent>();
  readonly procs: Array<{ name: string; proc: Proc }> = [];
  readonly #namespaces: string[] = [];
  readonly #untrap: () => void;
  setupMs = 0;

  constructor() {
    this.hosts = HOSTS.map((spec, index) => ({
      ...spec,
      index,
      ns: `${this.prefix}-${spec.key}`,
      tap: `${this.prefix}-${spec.key}`,
      address: addressOf(index),
    }));
    this.#untrap = trapCleanup(() => this.#killEverythingNow());
  }

  host(key: string): Host {
    const host = this.hosts.find((h) => h.key === key);
    if (!host) throw new Error(`no host ${key}`);
    return host;
  }

  agent(key: string): Agent {
    const agent = this.agents.get(key);
    if (!agent) throw new Error(`no agent on host ${key}`);
    return agent;
  }

  node(key: string): RunningNode {
    const node = this.nodes.find((n) => n.host.key === key);
    if (!node) throw new Error(`no node on host ${key}`);
    return node;
  }

  async build(options: { gatewayExtraYaml?: string[] } = {}): Promise<void> {
    const startedMs = performance.now();
    sweepLeftovers(this.prefix);
    this.dir = await mkdtemp(path.join(os.tmpdir(), `${RUN_DIR_PREFIX}${this.prefix}-`));
    // Mosquitto drops to user mosquitto: it must be able to pass through to its config directory.
    await chmod(this.dir, 0o711);

    for (const h of this.hosts) {
      addNamespace(h.ns);
      this.#namespaces.push(h.ns);
    }
    this.switch = await startSwitch({
      dir: this.dir,
      taps: this.hosts.map((h) => h.tap),
      namespaces: this.hosts.map((h) => h.ns),
      delayMs: delayMatrixMs(this.hosts),
    });
    for (const h of this.hosts) plugTap(h, SUBNET_BITS);

    const gw = this.host('gw');
    const orc = this.host('orc');
    const mq = this.host('mq');
    this.url.gateway = `http://${gw.address}:${PORTS.gateway}`;
    this.url.oracle = `http://${orc.address}:${PORTS.oracle}`;
    this.url.broker = `mqtt://${mq.address}:${PORTS.broker}`;
    const gatewayDataDir = path.join(this.dir, 'gateway');
    const modelsDir = path.join(this.dir, 'origin-models');
    const nodeHosts = this.hosts.filter((h) => h.role === 'node' || h.role === 'liar');
    const nodeDir = (h: Host) => path.join(this.dir, 'nodes', h.key);

    // What needs nothing else, side by side (each `hexedge` command is a second of CPU to start).
    // `hexedge node init` at the place each node claims (the liar's is not where it runs), first: the
    // oracle's config names the operator's anchors among them.
    await Promise.all(
      nodeHosts.map(async (h) => {
        const claim = CITIES[h.claim ?? h.city];
        await runHexedge(['node', 'init', '--data-dir', nodeDir(h), `--lat=${claim.lat}`, `--lng=${claim.lng}`, '--gateway', this.url.gateway]);
      }),
    );
    const anchors = await Promise.all(
      ANCHOR_KEYS.map(async (key) => ({
        nodeId: (JSON.parse(await readFile(path.join(nodeDir(this.host(key)), 'node-key.json'), 'utf8')) as { nodeId: string }).nodeId,
        location: CITIES[this.host(key).city],
      })),
    );
    const oracleDir = path.join(this.dir, 'oracle');
    await writeFile(
      `${oracleDir}.yaml`,
      oracleYaml({
        address: orc.address,
        dataDir: oracleDir,
        gatewayUrl: this.url.gateway,
        location: CITIES[orc.city],
        verifiedWithinKm: verifiedWithinKmFor(this.hosts),
        anchors,
      }),
    );
    await mkdir(gatewayDataDir, { recursive: true, mode: 0o700 });
    await Promise.all([
      // The broker, from `hexedge broker device add` + `hexedge broker acl`.
      (async () => {
        const brokerConfig = await writeBrokerFiles({
          dir: path.join(this.dir, 'mosquitto'),
          gatewayDataDir,
          address: mq.address,
        });
        this.#keep(
          'mosquitto',
          await startProcess({
            name: 'mosquitto',
            ...inNamespace(mq.ns, mosquittoBinary!, ['-c', brokerConfig, '-v']),
            ready: /Opening ipv4 listen socket on port/,
            timeoutMs: 5_000,
          }),
        );
      })(),
      // The oracle first of the services: the gateway's and the nodes' configs name its id.
      (async () => {
        const oracle = await startHexedgeIn({
          ns: orc.ns,
          name: 'hexedge oracle',
          args: ['oracle', '--config', `${oracleDir}.yaml`],
          ready: /^oracle (\S+) on (\S+)/,
        });
        this.#keep('oracle', oracle);
        this.oracleId = oracle.match[1]!;
      })(),
      // The gateway's origin registry holds the model the nodes pull.
      (async () => {
        const bytes = buildComfortIndexModel();
        await writeModel({ dir: modelsDir, manifest: await comfortIndexManifest(bytes), bytes });
      })(),
    ]);

    const gatewayConfig = path.join(this.dir, 'gateway.yaml');
    await writeFile(
      gatewayConfig,
      gatewayYaml({
        address: gw.address,
        dataDir: gatewayDataDir,
        modelsDir,
        brokerUrl: this.url.broker,
        oracleUrl: this.url.oracle,
        oracleId: this.oracleId,
        extra: options.gatewayExtraYaml,
      }),
    );
    this.#keep(
      'gateway',
      await startHexedgeIn({
        ns: gw.ns,
        name: 'hexedge gateway',
        args: ['gateway', '--config', gatewayConfig],
        env: { ...process.env, HEXEDGE_ADMIN_KEY: ADMIN_KEY, HEXEDGE_MQTT_PASSWORD: GATEWAY_MQTT_PASSWORD },
        ready: /hexedge gateway ready: (\S+)/,
      }),
    );

    // `hexedge node run` where each host really is; an agent on every caller's host and one on the
    // gateway's host for the operator's queries.
    await Promise.all([
      ...nodeHosts.map(async (h) => {
        await configureNode({ dataDir: nodeDir(h), address: h.address, oracleId: this.oracleId });
        const proc = await startHexedgeIn({
          ns: h.ns,
          name: `node ${h.key}`,
          args: ['node', 'run', '--data-dir', nodeDir(h)],
          ready: /serving OIP v2 on (\S+) as node (\S+)/,
          timeoutMs: 60_000,
        });
        this.#keep(`node ${h.key}`, proc);
        this.nodes.push({ host: h, nodeId: proc.match[2]!, url: proc.match[1]!, proc });
      }),
      ...this.hosts
        .filter((h) => h.role === 'caller' || h.role === 'gateway')
        .map(async (h) => {
          const agent = await startAgent(h.ns);
          this.agents.set(h.key, agent);
          raisePriority(agent.pid);
        }),
    ]);
    await waitUntil(
      'the gateway to list every node healthy',
      async () => (await this.listNodes()).length === nodeHosts.length,
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    this.setupMs = performance.now() - startedMs;
  }

  /** The gateway's node list (healthy nodes, with `locationVerified`), read from the gateway's host. */
  async listNodes(): Promise<ListedNode[]> {
    const res = await this.agent('gw').call<FetchResult<{ nodes: ListedNode[] }>>('fetch', {
      url: `${this.url.gateway}/v1/nodes`,
    });
    return res.status === 200 ? res.body.nodes : [];
  }

  /** The oracle's report on a node (`GET /v1/oracle/nodes/{id}`), read from the gateway's host. */
  async oracleReport<T>(nodeId: string): Promise<T> {
    const res = await this.agent('gw').call<FetchResult<T>>('fetch', {
      url: `${this.url.oracle}/v1/oracle/nodes/${nodeId}`,
    });
    if (res.status !== 200) throw new Error(`oracle report for ${nodeId}: HTTP ${res.status}`);
    return res.body;
  }

  /** The last lines each process printed (for a failure's message). */
  logs(lines = 15): string {
    return this.procs
      .map(({ name, proc }) => `--- ${name}\n${proc.lines.slice(-lines).join('\n')}`)
      .join('\n');
  }

  async teardown(): Promise<void> {
    await Promise.all(this.procs.map(({ proc }) => proc.stop().catch(() => {})));
    await Promise.all([...this.agents.values()].map((a) => a.stop().catch(() => {})));
    await this.switch?.stop().catch(() => {});
    for (const ns of this.#namespaces) removeNamespace(ns);
    this.#namespaces.length = 0;
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
    this.#untrap();
  }

  #keep(name: string, proc: Proc): void {
    this.procs.push({ name, proc });
    raisePriority(proc.child.pid!);
  }

  /** The trap's cleanup: synchronous, so it also runs from process 'exit'. */
  #killEverythingNow(): void {
    const kill = (pid: number | undefined) => {
      try {
        if (pid) process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    for (const { proc } of this.procs) kill(proc.child.pid);
    for (const a of this.agents.values()) kill(a.pid);
    kill(this.switch?.pid);
    for (const ns of this.#namespaces) removeNamespace(ns);
  }
}
