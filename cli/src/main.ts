import type { Command, CommandIo, Running } from './command.ts';
import { brokerCommands } from './commands/broker-acl.ts';
import { devCommand } from './commands/dev.ts';
import { gatewayCommand } from './commands/gateway.ts';
import { gatewayKeyCommand } from './commands/gateway-key.ts';
import { nodeInitCommand } from './commands/node-init.ts';
import { nodeRunCommand } from './commands/node-run.ts';
import { operatorCommands } from './commands/operator-commands.ts';
import { oracleCommand } from './commands/oracle.ts';
import { SIMULATE_USAGE, simulateCommand } from './commands/simulate.ts';

/** Every `hexedge` command, in the order `hexedge help` lists them. */
export const COMMANDS: readonly Command[] = [
  devCommand,
  nodeInitCommand,
  nodeRunCommand,
  gatewayCommand,
  gatewayKeyCommand,
  oracleCommand,
  { name: ['simulate'], usage: SIMULATE_USAGE, run: (args, io) => simulateCommand(args, io.log) },
  ...operatorCommands,
  ...brokerCommands,
];

const USAGE = `usage: hexedge <command> [flags]\n\n${COMMANDS.map((c) => c.usage).join('')}`;

/** The command whose name is the longest prefix of argv. */
export function findCommand(argv: readonly string[]): { command: Command; args: string[] } | undefined {
  let best: Command | undefined;
  for (const c of COMMANDS) {
    if (c.name.every((word, i) => argv[i] === word) && (!best || c.name.length > best.name.length)) best = c;
  }
  return best && { command: best, args: argv.slice(best.name.length) };
}

/**
 * Runs a long-running command until SIGINT/SIGTERM (or, started by `hexedge dev` with an IPC channel,
 * until the parent goes), then stops it — reverse-order shutdown — and exits 0; a command that stops
 * on a fault of its own exits 1.
 */
function untilSignal(running: Running, stopping: AbortController): void {
  let stopped = false;
  const onSignal = () => {
    if (stopped) return;
    stopped = true;
    stopping.abort();
    void running.stop().then(() => process.exit(0));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  if (process.channel) process.on('disconnect', onSignal);
  running.done?.catch(() => {
    if (stopped) return;
    stopped = true;
    void running.stop().then(() => process.exit(1));
  });
}

async function main(argv: string[]): Promise<void> {
  if (argv.length === 0 || ['help', '--help', '-h'].includes(argv[0]!)) {
    console.log(USAGE);
    return;
  }
  const found = findCommand(argv);
  if (!found) throw new Error(`unknown command: ${argv.join(' ')}\n\n${USAGE}`);
  const stopping = new AbortController();
  const io: CommandIo = {
    log: (line) => console.log(line),
    out: (text) => console.log(text),
    env: process.env,
    signal: stopping.signal,
  };
  const running = await found.command.run(found.args, io);
  if (running) untilSignal(running, stopping);
}

main(process.argv.slice(2)).catch((err: Error) => {
  console.error(`hexedge: ${err.message}`);
  process.exit(1);
});
