import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ADMIN_KEY, DEVICE_ID, DEVICE_PASSWORD, type Fabric } from './fabric.ts';
import { runBlock, typescriptBlocks } from './readme-examples.ts';

/** Every TypeScript block of the root README and of client/README.md, run with node against the fabric. */
export function readmeSuite(getFabric: () => Fabric) {
  describe('the READMEs’ TypeScript examples, run with node against this fabric', () => {
    const repo = path.resolve(import.meta.dirname, '../..');
    // What each block prints when it works (a failing block exits non-zero with its error).
    const expected: Record<string, RegExp[][]> = {
      'README.md': [
        [
          /probabilities \[/,
          /receipt verified: signed by /,
          /nearest nodes \[/,
          /refused: 400 INVALID_LOCATION location\.lat/,
        ],
        [/occupancy .* receipt verified/],
      ],
      'client/README.md': [
        [/^receipt verified$/m, /tampered: rejected/],
        [/answered over MQTT v5 by node \S+ for request \S+/],
      ],
    };

    it.each(Object.keys(expected))(
      '%s',
      async (file) => {
        const blocks = await typescriptBlocks(path.join(repo, file));
        expect(blocks).toHaveLength(expected[file]!.length);
        for (const [i, code] of blocks.entries()) {
          const run = await runBlock({
            code,
            timeoutMs: 60_000,
            env: {
              HEXEDGE_URL: getFabric().gateway.url,
              API_KEY: ADMIN_KEY,
              HEXEDGE_MQTT_URL: getFabric().mqttUrl,
              HEXEDGE_DEVICE_ID: DEVICE_ID,
              HEXEDGE_DEVICE_PASSWORD: DEVICE_PASSWORD,
            },
          });
          expect({ block: i + 1, code: run.code, stderr: run.stderr }).toEqual({
            block: i + 1,
            code: 0,
            stderr: '',
          });
          for (const line of expected[file]![i]!) expect(run.stdout).toMatch(line);
        }
      },
      180_000,
    );
  });
}
