import { oracleServiceConfigSchema } from '@hexedge/coverage-oracle';

import type { Command } from '../command.ts';
import { loadConfigFile } from '../config/load-config.ts';
import { defined, numberFlag, parseFlags, portFlag } from '../flags.ts';
import { buildOracleDeployable } from '../oracle-deployable.ts';

export const oracleCommand: Command = {
  name: ['oracle'],
  usage: `  oracle     the coverage oracle: reports in, spot checks, location proofs, trust to gateways, rewards
             [--config FILE] [--port 8790] [--host 127.0.0.1] [--data-dir DIR] [--gateway URL]…
             [--gateway-reporter NODE_ID]… [--lat DEG --lng DEG]   (every key: cli/examples/oracle.yaml)
`,
  async run(args, io) {
    const { values } = parseFlags(args, {
      config: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      'data-dir': { type: 'string' },
      gateway: { type: 'string', multiple: true },
      'gateway-reporter': { type: 'string', multiple: true },
      lat: { type: 'string' },
      lng: { type: 'string' },
    });
    if ((values.lat === undefined) !== (values.lng === undefined))
      throw new Error('--lat and --lng go together');
    const config = await loadConfigFile({
      schema: oracleServiceConfigSchema,
      what: 'oracle',
      ...(values.config ? { file: values.config } : {}),
      overrides: defined({
        port: portFlag(values.port),
        host: values.host,
        dataDir: values['data-dir'],
        gatewayUrls: values.gateway,
        gatewayReporterIds: values['gateway-reporter'],
        location:
          values.lat !== undefined
            ? { lat: numberFlag(values.lat, '--lat'), lng: numberFlag(values.lng, '--lng') }
            : undefined,
      }),
    });
    const oracle = await buildOracleDeployable(config, { signal: io.signal, log: io.log });
    // A stage fault (an infrastructure failure) stops the oracle: `done` rejects and hexedge exits non-zero.
    return { stop: oracle.stop, done: oracle.done };
  },
};
