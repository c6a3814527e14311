/**
 * A caller's bad value, quoted for an error message that names it.
 *
 * Strings are shown in JSON quotes, cut to `max` characters (with "…" when cut); numbers, booleans and
 * null as JSON prints them; arrays and objects by kind and size only. It never recurses, so a value
 * nested 100 000 deep (JSON.parse accepts it; JSON.stringify overflows the stack on it) cannot turn a
 * documented 400 into an internal error, and it never echoes more than about `max` characters back.
 */
export function quoteValue(value: unknown, max = 80): string {
  switch (typeof value) {
    case 'string': {
      const cut = value.length > max;
      return `${JSON.stringify(cut ? value.slice(0, max) : value)}${cut ? '…' : ''}`;
    }
    case 'number':
    case 'boolean':
      return String(value);
    case 'bigint':
      return `${value}n`;
    case 'undefined':
      return 'undefined';
    case 'object':
      if (value === null) return 'null';
      if (Array.isArray(value)) return `an array of ${value.length} item${value.length === 1 ? '' : 's'}`;
      return 'an object';
    default:
      return `a ${typeof value}`;
  }
}
