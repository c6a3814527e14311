/**
 * Canonical JSON (RFC 8785 style): object keys sorted by UTF-16 code units, no whitespace, numbers in
 * ECMAScript's shortest round-trip form. Signatures are made over these bytes, so the signer and the
 * verifier agree on the message no matter how either side ordered its keys.
 */
export function canonicalJson(value: unknown): string {
  // Loops and string appends rather than entries/filter/sort/map/join: the same bytes at a fraction of
  // the allocations (every report, receipt and batch leaf is hashed or signed over this).
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`canonicalJson: non-finite number ${value}`);
      // For a finite number, JSON.stringify is ToString (−0 included: both give "0").
      return '' + value;
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) {
          if (i > 0) out += ',';
          const v: unknown = value[i];
          out += v === undefined ? 'null' : canonicalJson(v);
        }
        return out + ']';
      }
      const record = value as Record<string, unknown>;
      const keys = sortByCodeUnits(Object.keys(record));
      let out = '{';
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i]!;
        const v = record[key];
        if (v === undefined) continue;
        if (out.length > 1) out += ',';
        out += quoteKey(key) + ':' + canonicalJson(v);
      }
      return out + '}';
    }
  }
  throw new TypeError(`canonicalJson: unsupported type ${typeof value}`);
}

/** Objects up to this many keys are sorted by insertion (no comparator calls); larger ones by Array.sort. */
const INSERTION_SORT_MAX_KEYS = 16;

/** Keys in UTF-16 code-unit order, as RFC 8785 asks (what `<` on strings and the default sort compare). */
export function sortByCodeUnits(keys: string[]): string[] {
  if (keys.length > INSERTION_SORT_MAX_KEYS) return keys.sort();
  for (let i = 1; i < keys.length; i++) {
    const key = keys[i]!;
    let j = i - 1;
    while (j >= 0 && keys[j]! > key) {
      keys[j + 1] = keys[j]!;
      j--;
    }
    keys[j + 1] = key;
  }
  return keys;
}

/** Quoted keys, by key: the wire schemas use a few dozen names. Bounded: past it, keys are quoted each time. */
const QUOTED_KEYS_MAX = 1024;
const quotedKeys = new Map<string, string>();
function quoteKey(key: string): string {
  let quoted = quotedKeys.get(key);
  if (quoted === undefined) {
    quoted = JSON.stringify(key);
    if (quotedKeys.size < QUOTED_KEYS_MAX) quotedKeys.set(key, quoted);
  }
  return quoted;
}

const encoder = new TextEncoder();

export function canonicalBytes(value: unknown): Uint8Array {
  return encoder.encode(canonicalJson(value));
}

/** Deepest nesting accepted in free-form JSON (domain inputs, OIP parameters): canonical JSON and JSON.stringify recurse, so 100 000 levels would overflow the stack. */
export const MAX_JSON_DEPTH = 64;

/** Whether a JSON value nests at most `maxDepth` arrays/objects deep; iterative, so any depth is safe to ask about. */
export function isWithinJsonDepth(value: unknown, maxDepth: number = MAX_JSON_DEPTH): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth >= maxDepth) return false;
    for (const child of Object.values(v)) stack.push([child, depth + 1]);
  }
  return true;
}
