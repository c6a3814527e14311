import { REPORT_KEY_FILE } from '@hexedge/gateway/node';
import { createKeyFile, readKeyFile } from '@hexedge/protocol/node';
import path from 'node:path';
import type { Command } from '../command.ts';
import { parseFlags, required } from '../flags.ts';

/**
 * `hexedge gateway key`: the gateway's Ed25519 key in `<data-dir>/report-key.json` (mode 0600), made
 * if there is none, and its id. It is the key `hexedge gateway` uses from that data dir, and, as is,
 * the Worker build's HEXEDGE_GATEWAY_KEY secret (gateway/README.md, "Its identity"); the file is
 * never overwritten, so running this twice names the same key.
 */
export const gatewayKeyCommand: Command = {
  name: ['gateway', 'key'],
  usage: `  gateway key  make (once) and name the gateway's key, <data-dir>/report-key.json (0600);
             the Worker's HEXEDGE_GATEWAY_KEY secret is that file as is
             --data-dir DIR
`,
  async run(args, io) {
    const { values } = parseFlags(args, { 'data-dir': { type: 'string' } });
    const dataDir = required(values['data-dir'], 'gateway key needs --data-dir');
    const file = path.join(dataDir, REPORT_KEY_FILE);
    const found = await readKeyFile(file);
    const keys = found?.keys ?? (await createKeyFile(file));
    io.out(`gateway key ${keys.nodeId} ${found ? 'in' : 'created in'} ${file} (mode 0600)`);
    io.out(
      `for the Worker: npx wrangler secret put HEXEDGE_GATEWAY_KEY --config gateway/wrangler.jsonc < ${file}`,
    );
  },
};
