import { quoteValue } from '@hexedge/protocol';

/** Reads `a.b.c` from a decoded payload; undefined when any step is missing. */
export function getPath(value: unknown, path: string): unknown {
  let at: unknown = value;
  for (const key of path.split('.')) {
    if (typeof at !== 'object' || at === null || !Object.hasOwn(at, key)) return undefined;
    at = (at as Record<string, unknown>)[key];
  }
  return at;
}

/** A finite number at `path`, or why not (naming `what`: the decoded payload, a normalized measurement). */
export function getNumber(value: unknown, path: string, what = 'decoded payload'): number | string {
  const v = getPath(value, path);
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  return v === undefined
    ? `${what} has no field '${path}'`
    : // quoteValue: bounded and not recursive (a decoded payload may nest deeper than JSON.stringify can print).
      `field '${path}' is ${quoteValue(v)}, not a finite number`;
}
