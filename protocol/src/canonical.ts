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
      return JSON.stringify(value);
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
      // Default sort order is by UTF-16 code units, as RFC 8785 asks.
      const keys = Object.keys(record).sort();
      let out = '{';
      for (const key of keys) {
        const v = record[key];
        if (v === undefined) continue;
        if (out.length > 1) out += ',';
        out += JSON.stringify(key) + ':' + canonicalJson(v);
      }
      return out + '}';
    }
  }
  throw new TypeError(`canonicalJson: unsupported type ${typeof value}`);
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
