import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';

/**
 * The one config-file loader of every `hexedge` command: a YAML (or JSON) file's keys, with flags laid
 * over them, parsed by the deployable's schema. The first problem names the file and the key; a file
 * that is not a mapping, or not YAML at all (an alias bomb, a syntax error), says so.
 */
export function parseConfigText<S extends z.ZodType>(options: {
  schema: S;
  text?: string;
  fileName: string;
  overrides?: Record<string, unknown>;
}): z.output<S> {
  let fromFile: unknown = {};
  if (options.text !== undefined) {
    try {
      fromFile = parseYaml(options.text) ?? {};
    } catch (err) {
      throw new Error(`${options.fileName}: not valid YAML: ${(err as Error).message}`);
    }
  }
  if (typeof fromFile !== 'object' || fromFile === null || Array.isArray(fromFile))
    throw new Error(`${options.fileName}: must be a mapping of keys`);
  const defined = Object.fromEntries(
    Object.entries(options.overrides ?? {}).filter(([, v]) => v !== undefined),
  );
  const parsed = options.schema.safeParse({ ...(fromFile as Record<string, unknown>), ...defined });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`${options.fileName}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return parsed.data;
}

/** Reads `file` (when given) and parses it with the overrides; without a file, the overrides alone (and the defaults). */
export async function loadConfigFile<S extends z.ZodType>(options: {
  schema: S;
  file?: string;
  what: string;
  overrides?: Record<string, unknown>;
}): Promise<z.output<S>> {
  let text: string | undefined;
  if (options.file !== undefined) {
    text = await readFile(options.file, 'utf8').catch((err: NodeJS.ErrnoException) => {
      throw new Error(
        err.code === 'ENOENT'
          ? `no ${options.what} config at ${options.file}`
          : `cannot read ${options.file}: ${err.message}`,
      );
    });
  }
  return parseConfigText({
    schema: options.schema,
    fileName: options.file ?? `${options.what} config`,
    ...(text !== undefined ? { text } : {}),
    ...(options.overrides ? { overrides: options.overrides } : {}),
  });
}
