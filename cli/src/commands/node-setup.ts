import { NODE_CONFIG_FILE, nodeConfigSchema, type NodeConfig } from '@hexedge/edge-node';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseConfigText } from '../config/load-config.ts';

export interface NodeSetup {
  configFile: string;
  /** Absent when the data directory has no node.yaml (models commands still work on `<dir>/models`). */
  config: NodeConfig | undefined;
  modelsDir: string;
}

/** The operator commands' view of a node's data directory; a present but broken config is an error. */
export async function readNodeSetup(dataDir: string, modelsDirFlag?: string): Promise<NodeSetup> {
  const configFile = path.resolve(dataDir, NODE_CONFIG_FILE);
  const text = await readFile(configFile, 'utf8').catch(() => undefined);
  const config =
    text === undefined
      ? undefined
      : parseConfigText({ schema: nodeConfigSchema, text, fileName: configFile });
  const modelsDir = path.resolve(dataDir, modelsDirFlag ?? config?.modelsDir ?? 'models');
  return { configFile, config, modelsDir };
}
