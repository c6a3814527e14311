import { nodeConfigSchema, renderNodeConfig } from '@hexedge/edge-node';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfigText } from './load-config.ts';

const parseNode = (text: string, fileName: string) =>
  parseConfigText({ schema: nodeConfigSchema, text, fileName });

describe('config files', () => {
  it('the committed node example is what `hexedge node init` writes, and parses to the defaults', () => {
    const example = readFileSync(path.join(import.meta.dirname, '../../examples/node.yaml'), 'utf8');
    expect(example).toBe(renderNodeConfig({ lat: 52.3676, lng: 4.9041 }));
    expect(parseNode(example, 'node.yaml')).toEqual({
      location: { lat: 52.3676, lng: 4.9041 },
      gatewayUrl: 'http://127.0.0.1:8787',
      host: '127.0.0.1',
      port: 8080,
      modelsDir: 'models',
      intraOpThreads: 1,
      inferenceWorkers: 'auto',
      backend: 'auto',
      wasmThreads: 1,
      oracleIds: [],
      gatewayIds: [],
      gatewayKeysRefreshMs: 60_000,
      receipts: { mode: 'batch', maxBatchLeaves: 256, maxBatchDelayMs: 0 },
    });
  });

  it('names the bad key and the file', () => {
    expect(() => parseNode('location: {lat: 1, lng: 2}\nport: 99999\n', 'x.yaml')).toThrow(/x\.yaml: port:/);
    expect(() => parseNode('location: {lat: 1, lng: 2}\nprot: 1\n', 'x.yaml')).toThrow(/prot/);
    expect(() => parseNode('location: [', 'x.yaml')).toThrow(/not valid YAML/);
    expect(() => parseNode('- 1\n- 2\n', 'x.yaml')).toThrow(/x\.yaml: must be a mapping of keys/);
  });

  it('flags override the file, and an undefined flag does not erase a key', () => {
    const config = parseConfigText({
      schema: nodeConfigSchema,
      text: 'location: {lat: 1, lng: 2}\nport: 9000\n',
      fileName: 'n.yaml',
      overrides: { port: 9100, host: undefined },
    });
    expect(config.port).toBe(9100);
    expect(config.host).toBe('127.0.0.1');
  });
});
