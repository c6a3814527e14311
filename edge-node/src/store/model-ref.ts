/**
 * How operators and configs name a model: by content id (the artifact's SHA-256, 64 lowercase hex —
 * what every node and cache keys artifacts by) or by `name@version` (resolved to a content id by the
 * origin registry). Runtime-neutral: the OIP app's artifact routes validate ids with it too.
 */
export const CONTENT_ID_PATTERN = /^[0-9a-f]{64}$/;

export type ModelRef = { contentId: string } | { name: string; version: string };

export function isValidContentId(value: string): boolean {
  return CONTENT_ID_PATTERN.test(value);
}

/** `name@version` or a content id; throws naming the value otherwise. */
export function parseModelRef(value: string): ModelRef {
  if (isValidContentId(value)) return { contentId: value };
  const at = value.lastIndexOf('@');
  const name = value.slice(0, at);
  const version = value.slice(at + 1);
  if (at > 0 && /^[a-z0-9][a-z0-9._-]{0,127}$/.test(name) && /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(version)) {
    return { name, version };
  }
  throw new Error(`${JSON.stringify(value)} is neither a content id (64 lowercase hex) nor name@version`);
}

export function formatModelRef(ref: ModelRef): string {
  return 'contentId' in ref ? ref.contentId : `${ref.name}@${ref.version}`;
}
