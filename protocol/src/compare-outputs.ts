import { tensorValuesToArray, type Tensor } from './tensors.ts';

/**
 * Largest absolute difference between two results of the same request: tensors (matched by name,
 * with equal datatype and shape) or a pipeline's domain output (any JSON). Infinity when they differ
 * in anything but numbers (a different label, shape or key is never "within tolerance").
 *
 * The oracle's spot checks judge nodes with it and the gateway's rollouts judge a candidate model
 * version with it (shadow comparisons), so "the same answer" means one thing across the fabric.
 */
export function maxAbsDifference(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') {
    if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b) ? 0 : Infinity;
    return a === b ? 0 : Math.abs(a - b);
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return Infinity;
    let max = 0;
    for (let i = 0; i < a.length && max !== Infinity; i++) max = Math.max(max, maxAbsDifference(a[i], b[i]));
    return max;
  }
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a).sort();
    const kb = Object.keys(b).sort();
    if (ka.length !== kb.length || ka.some((k, i) => k !== kb[i])) return Infinity;
    let max = 0;
    for (const k of ka)
      max = Math.max(
        max,
        maxAbsDifference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]),
      );
    return max;
  }
  return a === b ? 0 : Infinity;
}

/** Tensors as plain, name-sorted JSON, so typed arrays and arrays of the same values compare equal. */
export function normaliseTensors(tensors: readonly Tensor[]): unknown {
  return [...tensors]
    .sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0))
    .map((t) => ({
      name: t.name,
      datatype: t.datatype,
      shape: [...t.shape],
      data: tensorValuesToArray(t.data),
    }));
}
