import { NODE_CONFIG_FILE, nodeConfigSchema } from '@hexedge/edge-node';
import { buildEdgeNode } from '@hexedge/edge-node/node';
import path from 'node:path';
import type { Command } from '../command.ts';
import { loadConfigFile } from '../config/load-config.ts';
import { defined, parseFlags, portFlag, required } from '../flags.ts';

export const nodeRunCommand: Command = {
  name: ['node', 'run'],
  usage: `  node run   serve a node's models and register with the gateway
             --data-dir DIR  [--port N] [--host H] [--gateway URL] [--models-dir DIR] [--peer URL]…
             (pulls what node.yaml's \`models:\` names, or on a first run what the gateway says a node
             here should serve; then follows the placement plan)
`,
  async run(args, io) {
    const { values } = parseFlags(args, {
      'data-dir': { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      gateway: { type: 'string' },
      'models-dir': { type: 'string' },
      peer: { type: 'string', multiple: true },
    });
    const dataDir = required(values['data-dir'], 'node run needs --data-dir');
    const file = path.join(dataDir, NODE_CONFIG_FILE);
    const config = await loadConfigFile({
      schema: nodeConfigSchema,
      what: 'node',
      file,
      overrides: defined({
        port: portFlag(values.port),
        host: values.host,
        gatewayUrl: values.gateway,
        modelsDir: values['models-dir'] && path.resolve(values['models-dir']),
        peers: values.peer,
      }),
    }).catch((err: Error) => {
      throw /^no node config/.test(err.message)
        ? new Error(
            `no config at ${file}; run \`hexedge node init --data-dir ${dataDir} --lat <lat> --lng <lng>\` first`,
          )
        : err;
    });
    const node = await buildEdgeNode(config, { dataDir, signal: io.signal, log: io.log });
    return { stop: node.stop, done: node.closed };
  },
};
