import type { z } from 'zod';
import { HexEdgeError, type ErrorCode } from '../errors.ts';

/** Parses with a zod schema; on failure throws INVALID_REQUEST naming the first bad field and value. */
export function parseWith<S extends z.ZodType>(
  schema: S,
  value: unknown,
  options: { what: string; code?: ErrorCode },
): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const path = issue.path.length ? issue.path.join('.') : '(root)';
  throw new HexEdgeError(options.code ?? 'INVALID_REQUEST', `${options.what}: ${path}: ${issue.message}`, {
    field: path,
  });
}
