import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import { devConfigSchema } from './config/dev-config.ts';
import { dev } from './commands/dev.ts';
import { nodeInit } from './commands/node-init.ts';
import { nodeRun } from './commands/node-run.ts';
import { BROKER_USAGE, runBrokerCommand } from './commands/broker-acl.ts';
import { GATEWAY_USAGE, gatewayCommand } from './commands/gateway.ts';
import { ORACLE_USAGE, oracleCommand } from './commands/oracle.ts';
import { SIMULATE_USAGE, simulateCommand } from './commands/simulate.ts';
import { OPERATOR_USAGE, runOperatorCommand } from './commands/operator-commands.ts';

const USAGE = `usage: hexedge <command> [flags]

  dev        broker, gateway, placement and edge nodes on this machine
             --port 8787  --mqtt-port 1883  --host 127.0.0.1  --nodes 3  --data-dir .hexedge
             --api-key KEY (default: random, printed)  --heartbeat-ms 2000
             --sim-speed 60 (LoRaWAN device simulator's clock vs real time; 0: off)
  node init  create a node's key pair, location claim and config file
             --data-dir DIR  --lat DEG  --lng DEG  [--gateway URL]
  node run   serve a node's models and register with the gateway
             --data-dir DIR  [--port N] [--host H] [--gateway URL] [--models-dir DIR] [--peer URL]…
             (pulls the config's \`models:\` it lacks, from --peer nodes then the gateway)
${GATEWAY_USAGE}${ORACLE_USAGE}${SIMULATE_USAGE}${OPERATOR_USAGE}${BROKER_USAGE}`;

const num = (v: string | undefined, flag: string): number | undefined => {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new Error(`${flag} must be a number, got ${JSON.stringify(v)}`);
  return n;
};

/** Runs until SIGINT/SIGTERM, then calls stop (reverse-order shutdown) and exits 0. */
function untilSignal(stop: () => Promise<void>): void {
  let stopping = false;
  const onSignal = () => {
    if (stopping) return;
    stopping = true;
    void stop().then(() => process.exit(0));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // Started by `hexedge dev` with an IPC channel: when the parent goes, so do we.
  if (process.channel) process.on('disconnect', onSignal);
}

async function main(argv: string[]): Promise<void> {
  const [command, sub] = argv;
  const log = (m: string) => console.log(m);
  if (command === 'dev') {
    const { values } = parseArgs({
      args: argv.slice(1),
      options: {
        port: { type: 'string' },
        'mqtt-port': { type: 'string' },
        host: { type: 'string' },
        nodes: { type: 'string' },
        'data-dir': { type: 'string' },
        'api-key': { type: 'string' },
        'heartbeat-ms': { type: 'string' },
        'sim-speed': { type: 'string' },
      },
    });
    const parsed = devConfigSchema.safeParse({
      port: num(values.port, '--port'),
      mqttPort: num(values['mqtt-port'], '--mqtt-port'),
      host: values.host,
      nodes: num(values.nodes, '--nodes'),
      dataDir: values['data-dir'],
      apiKey: values['api-key'],
      heartbeatMs: num(values['heartbeat-ms'], '--heartbeat-ms'),
      simSpeed: num(values['sim-speed'], '--sim-speed'),
    });
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new Error(`--${String(issue.path[0]).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}: ${issue.message}`);
    }
    const config = { ...parsed.data, apiKey: parsed.data.apiKey ?? `hx_${randomBytes(18).toString('base64url')}` };
    const { stop, readyLine } = await dev(config, log);
    untilSignal(stop);
    console.log(readyLine);
    return;
  }
  if (command === 'node' && sub === 'init') {
    const { values } = parseArgs({
      args: argv.slice(2),
      options: { 'data-dir': { type: 'string' }, lat: { type: 'string' }, lng: { type: 'string' }, gateway: { type: 'string' } },
    });
    if (!values['data-dir'] || values.lat === undefined || values.lng === undefined) throw new Error('node init needs --data-dir, --lat and --lng');
    const { nodeId } = await nodeInit({
      dataDir: values['data-dir'],
      lat: num(values.lat, '--lat')!,
      lng: num(values.lng, '--lng')!,
      ...(values.gateway ? { gatewayUrl: values.gateway } : {}),
    });
    console.log(`node ${nodeId} initialised in ${values['data-dir']} (key: node-key.json, mode 0600; config: node.yaml)`);
    return;
  }
  if (command === 'node' && sub === 'run') {
    const { values } = parseArgs({
      args: argv.slice(2),
      options: {
        'data-dir': { type: 'string' },
        port: { type: 'string' },
        host: { type: 'string' },
        gateway: { type: 'string' },
        'models-dir': { type: 'string' },
        peer: { type: 'string', multiple: true },
      },
    });
    if (!values['data-dir']) throw new Error('node run needs --data-dir');
    const port = num(values.port, '--port');
    const stop = await nodeRun(
      {
        dataDir: values['data-dir'],
        ...(port !== undefined ? { port } : {}),
        ...(values.host ? { host: values.host } : {}),
        ...(values.gateway ? { gatewayUrl: values.gateway } : {}),
        ...(values['models-dir'] ? { modelsDir: values['models-dir'] } : {}),
        ...(values.peer ? { peers: values.peer } : {}),
      },
      log,
    );
    untilSignal(stop);
    return;
  }
  if (command === 'simulate') return simulateCommand(argv.slice(1), log);
  if (command === 'gateway') {
    const { stop } = await gatewayCommand(argv.slice(1), log);
    untilSignal(stop);
    return;
  }
  if (command === 'oracle') {
    const { stop, done } = await oracleCommand(argv.slice(1), log);
    untilSignal(stop);
    // A stage fault (an infrastructure failure) stops the oracle: shut down and exit non-zero.
    done.catch(() => void stop().then(() => process.exit(1)));
    return;
  }
  if (await runBrokerCommand(argv, log)) return;
  if (await runOperatorCommand(argv, log)) return;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    console.log(USAGE);
    return;
  }
  throw new Error(`unknown command: ${argv.join(' ')}\n\n${USAGE}`);
}

main(process.argv.slice(2)).catch((err: Error) => {
  console.error(`hexedge: ${err.message}`);
  process.exit(1);
});
