import {
  TYPED_ARRAY_OF,
  tensorValuesToArray,
  type NumericArray,
  type Tensor,
  type TensorDatatype,
  type TensorValues,
} from '@hexedge/protocol';

const TYPED: Partial<
  Record<TensorDatatype, { new (length: number): NumericArray; from(d: ArrayLike<number>): NumericArray }>
> = TYPED_ARRAY_OF;

/** Joins the same-named tensors of several requests along dim 0 (all other dims already equal). */
export function concatOnDim0(parts: readonly Tensor[]): Tensor {
  const first = parts[0]!;
  if (parts.length === 1) return first;
  const rows = parts.reduce((n, t) => n + t.shape[0]!, 0);
  const Typed = TYPED[first.datatype];
  let data: TensorValues;
  if (Typed) {
    const out = new Typed(parts.reduce((n, t) => n + t.data.length, 0));
    let at = 0;
    for (const t of parts) {
      out.set(ArrayBuffer.isView(t.data) ? (t.data as NumericArray) : (t.data as number[]), at);
      at += t.data.length;
    }
    data = out;
  } else {
    data = parts.flatMap((t) => tensorValuesToArray(t.data));
  }
  return { name: first.name, datatype: first.datatype, shape: [rows, ...first.shape.slice(1)], data };
}

/**
 * Cuts a batched output back into per-request tensors of `rows[i]` rows each. Typed arrays are cut
 * into views of the run's output buffer (no copy: it belongs to this batch alone).
 */
export function splitOnDim0(t: Tensor, rows: readonly number[]): Tensor[] {
  const total = rows.reduce((a, b) => a + b, 0);
  if (t.shape[0] !== total)
    throw new Error(`output '${t.name}' has ${t.shape[0]} rows, expected ${total} for the batch`);
  const perRow = total === 0 ? 0 : t.data.length / total;
  let at = 0;
  return rows.map((r) => {
    const slice = (
      ArrayBuffer.isView(t.data)
        ? t.data.subarray(at * perRow, (at + r) * perRow)
        : t.data.slice(at * perRow, (at + r) * perRow)
    ) as TensorValues;
    at += r;
    return { name: t.name, datatype: t.datatype, shape: [r, ...t.shape.slice(1)], data: slice };
  });
}

/** Requests can share a batch when every input agrees in name, datatype and non-batch dims. */
export function batchKey(inputs: readonly Tensor[], outputNames: readonly string[] | undefined): string {
  const ins = inputs.map((t) => `${t.name}:${t.datatype}:${t.shape.slice(1).join('x')}`).join('|');
  return `${ins}>${outputNames?.join(',') ?? '*'}`;
}
