import { parseArgs, type ParseArgsConfig } from 'node:util';

/**
 * The one flag parser of every `hexedge` command: `parseArgs` with strict options (an unknown flag
 * is an error that names it), plus number flags checked here so every command words a bad number
 * the same way.
 */
export function parseFlags<O extends NonNullable<ParseArgsConfig['options']>>(
  args: string[],
  options: O,
  o: { positionals?: boolean } = {},
) {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: o.positionals ?? false });
  } catch (err) {
    throw new Error((err as Error).message.replace(/\. To specify a positional argument.*$/s, ''));
  }
}

/** A number flag: undefined when absent; an error naming the flag and the value when not a number in range. */
export function numberFlag(
  value: string | undefined,
  flag: string,
  o: { integer?: boolean; min?: number; max?: number } = {},
): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  const kind = o.integer ? 'a whole number' : 'a number';
  if (value.trim() === '' || !Number.isFinite(n) || (o.integer && !Number.isInteger(n)))
    throw new Error(`${flag} must be ${kind}, got ${JSON.stringify(value)}`);
  if ((o.min !== undefined && n < o.min) || (o.max !== undefined && n > o.max)) {
    throw new Error(
      `${flag} must be ${kind} in [${o.min ?? '-∞'}, ${o.max ?? '∞'}], got ${JSON.stringify(value)}`,
    );
  }
  return n;
}

/** A TCP port flag (0 picks a free port). */
export const portFlag = (value: string | undefined, flag = '--port') =>
  numberFlag(value, flag, { integer: true, min: 0, max: 65535 });

/** A required string flag. */
export function required(value: string | undefined, message: string): string {
  if (value === undefined || value === '') throw new Error(message);
  return value;
}

/** Drops undefined values, so flags that were not given never override a config file's keys. */
export const defined = <T extends Record<string, unknown>>(values: T): Partial<T> =>
  Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as Partial<T>;
