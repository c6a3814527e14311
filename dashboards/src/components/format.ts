/** Formatting shared by the views: units always shown, missing values said as such. */
export const ms = (v: number | null | undefined): string => (v === null || v === undefined ? '—' : v < 10 ? `${v.toFixed(1)} ms` : `${Math.round(v)} ms`);

export function ago(atMs: number | null | undefined, nowMs: number): string {
  if (!atMs) return 'never';
  const s = Math.max(0, Math.round((nowMs - atMs) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  return `${Math.floor(s / 3600)} h ago`;
}

export const time = (atMs: number): string => new Date(atMs).toLocaleTimeString([], { hour12: false });

/** A node id is a 43-character public key: show its ends so two nodes stay tellable apart. */
export const shortId = (id: string): string => (id.length > 16 ? `${id.slice(0, 8)}…${id.slice(-6)}` : id);

export const pct = (v: number): string => `${Math.round(v * 100)}%`;
