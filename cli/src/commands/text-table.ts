/** A plain-text table for operator commands: left-aligned columns, two spaces apart, no borders to break copy-paste. */
export function formatTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

export const percent = (fraction: number | undefined) => (fraction === undefined ? '-' : `${(fraction * 100).toFixed(1)}%`);
