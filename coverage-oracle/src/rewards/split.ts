/**
 * Splits an integer amount by integer weights so the parts sum to the amount exactly (largest
 * remainder, Hamilton's method): each id gets floor(total × w / W); the units left over go one each to
 * the ids with the largest remainders, ties to the smaller id (code-unit order). Zero weights get nothing.
 */
export function splitProportionally(options: { totalBaseUnits: bigint; weights: ReadonlyArray<{ id: string; weight: bigint }> }): Map<string, bigint> {
  const { totalBaseUnits } = options;
  const weights = options.weights.filter((w) => w.weight > 0n);
  const out = new Map<string, bigint>();
  const weightSum = weights.reduce((s, w) => s + w.weight, 0n);
  if (weightSum === 0n || totalBaseUnits <= 0n) return out;
  let given = 0n;
  const remainders: Array<{ id: string; remainder: bigint }> = [];
  for (const { id, weight } of weights) {
    const share = (totalBaseUnits * weight) / weightSum;
    out.set(id, share);
    given += share;
    remainders.push({ id, remainder: (totalBaseUnits * weight) % weightSum });
  }
  remainders.sort((a, b) => (a.remainder === b.remainder ? (a.id < b.id ? -1 : a.id > b.id ? 1 : 0) : a.remainder > b.remainder ? -1 : 1));
  for (let i = 0; given < totalBaseUnits; i++, given++) {
    const id = remainders[i % remainders.length]!.id;
    out.set(id, out.get(id)! + 1n);
  }
  return out;
}
