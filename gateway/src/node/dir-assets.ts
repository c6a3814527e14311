import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { StaticAssets } from '../routes/dashboard-assets.ts';

/**
 * The built dashboard's files from a folder. The gateway admits only plain relative paths
 * (dashboard-assets.ts); resolving and re-checking here keeps every read inside the folder anyway.
 */
export function dirAssets(dir: string): StaticAssets {
  const root = path.resolve(dir);
  return async (rel) => {
    const file = path.resolve(root, rel);
    if (!file.startsWith(root + path.sep)) return undefined;
    return readFile(file).catch(() => undefined);
  };
}
