/** Reads `a.b.c` from a decoded payload; undefined when any step is missing. */
export function getPath(value: unknown, path: string): unknown {
  let at: unknown = value;
  for (const key of path.split('.')) {
    if (typeof at !== 'object' || at === null || !Object.hasOwn(at, key)) return undefined;
    at = (at as Record<string, unknown>)[key];
  }
  return at;
}

export function getNumber(value: unknown, path: string): number | string {
  const v = getPath(value, path);
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  return v === undefined ? `decoded payload has no field '${path}'` : `field '${path}' is ${JSON.stringify(v)}, not a finite number`;
}
