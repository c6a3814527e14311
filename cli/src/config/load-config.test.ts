import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseNodeConfig, renderNodeConfig } from './node-config.ts';

describe('node config', () => {
  it('the committed example is what `hexedge node init` writes, and parses to the defaults', () => {
    const example = readFileSync(path.join(import.meta.dirname, '../../examples/node.yaml'), 'utf8');
    expect(example).toBe(renderNodeConfig({ lat: 52.3676, lng: 4.9041 }));
    expect(parseNodeConfig(example, 'node.yaml')).toEqual({
      location: { lat: 52.3676, lng: 4.9041 },
      gatewayUrl: 'http://127.0.0.1:8787',
      host: '127.0.0.1',
      port: 8080,
      modelsDir: 'models',
      intraOpThreads: 1,
      backend: 'auto',
      wasmThreads: 1,
      oracleIds: [],
    });
  });

  it('names the bad key and the file', () => {
    expect(() => parseNodeConfig('location: {lat: 1, lng: 2}\nport: 99999\n', 'x.yaml')).toThrow(/x\.yaml: port:/);
    expect(() => parseNodeConfig('location: {lat: 1, lng: 2}\nprot: 1\n', 'x.yaml')).toThrow(/prot/);
    expect(() => parseNodeConfig('location: [', 'x.yaml')).toThrow(/not valid YAML/);
  });
});
