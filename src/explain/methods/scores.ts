/**
 * Class scores from the logits, on the CPU: the logits are read back anyway (1000 values), and
 * softmax and top-k there cost microseconds where each would be a GPU kernel (tf.topk several).
 */

/** Softmax probabilities, computed in double precision with the maximum subtracted. */
export function softmax(logits: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]!);
  const out = new Float64Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += out[i] = Math.exp(logits[i]! - max);
  for (let i = 0; i < out.length; i++) out[i]! /= sum;
  return out;
}

/** Index of the highest value (the first one on ties, like tf.argMax). */
export function argMax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

/** Indices of the k highest values, highest first (ties: the lower index first). */
export function topIndices(values: ArrayLike<number>, k: number): number[] {
  const top: number[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (top.length === k && v <= values[top[k - 1]!]!) continue;
    let at = top.length === k ? k - 1 : top.length;
    while (at > 0 && values[top[at - 1]!]! < v) at--;
    top.splice(at, 0, i);
    if (top.length > k) top.pop();
  }
  return top;
}
