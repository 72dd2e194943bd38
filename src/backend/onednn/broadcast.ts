/**
 * The addon's loop plan for a broadcasting binary op: (size, strideA, strideB) per level, outer to inner,
 * with size-1 dimensions dropped and adjacent dimensions merged wherever both operands stay contiguous
 * across them, so same-shape and scalar cases become one flat loop and [N,1,1,C]·[N,H,W,C] three levels.
 * Undefined for empty outputs.
 */
export function broadcastLevels(aShape: readonly number[], bShape: readonly number[], outShape: readonly number[]): Int32Array | undefined {
  const rank = outShape.length;
  const innerFirst: { size: number; strideA: number; strideB: number }[] = [];
  let strideA = 1;
  let strideB = 1;
  for (let d = rank - 1; d >= 0; d--) {
    const size = outShape[d];
    if (size === 0) return undefined;
    const aDim = aShape[d - (rank - aShape.length)] ?? 1;
    const bDim = bShape[d - (rank - bShape.length)] ?? 1;
    const sa = aDim === 1 ? 0 : strideA;
    const sb = bDim === 1 ? 0 : strideB;
    strideA *= aDim;
    strideB *= bDim;
    if (size === 1) continue;
    const inner = innerFirst[innerFirst.length - 1];
    if (inner && inner.strideA * inner.size === sa && inner.strideB * inner.size === sb) {
      inner.size *= size;
    } else {
      innerFirst.push({ size, strideA: sa, strideB: sb });
    }
  }
  if (innerFirst.length === 0) innerFirst.push({ size: 1, strideA: 0, strideB: 0 });
  const levels = new Int32Array(innerFirst.length * 3);
  innerFirst.reverse().forEach((l, i) => levels.set([l.size, l.strideA, l.strideB], i * 3));
  return levels;
}

/** [outer, reduce, inner] for reducing `axes` of `shape`, or undefined unless the axes are one contiguous run. */
export function reductionView(shape: readonly number[], axes: readonly number[]): [number, number, number] | undefined {
  if (axes.length === 0) return undefined;
  const sorted = [...axes].sort((a, b) => a - b);
  if (sorted.some((axis, i) => i > 0 && axis !== sorted[i - 1] + 1)) return undefined;
  const first = sorted[0];
  const last = sorted[sorted.length - 1];
  const product = (dims: readonly number[]) => dims.reduce((p, d) => p * d, 1);
  const view: [number, number, number] = [product(shape.slice(0, first)), product(shape.slice(first, last + 1)), product(shape.slice(last + 1))];
  return view.every((d) => d > 0) ? view : undefined;
}
