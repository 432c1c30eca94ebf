/**
 * Deciles per SPEC step 5, computed on the scores as returned (rounded to 4 decimals).
 *
 * Rules (all deterministic):
 * 1. Rows are ranked by score, ascending (decile 1 = lowest uplift, 10 = highest).
 * 2. The ideal boundary between deciles k and k+1 (k = 1..9) lies after position round(k * n / 10) of
 *    the ranking. If that position falls inside a block of identical scores, the boundary moves to the
 *    nearer edge of the block (so cumulative sizes stay closest to k * n / 10); at equal distance it moves
 *    to the upper edge (the block goes to decile k). A tie block therefore never straddles a boundary.
 *    (With all scores equal, every row is in decile 5.)
 *    Several boundaries may land on the same position: the deciles between them are empty and are not
 *    listed. Non-empty deciles keep their number k (the rows between boundary k-1 and boundary k).
 * 3. While some non-empty decile has fewer than `minSize` (15) customers and more than one decile is
 *    left, the smallest such decile (lowest number on ties) is merged into its adjacent non-empty
 *    decile with fewer customers (the higher one on ties, or the only one). The merged decile keeps the
 *    number of the part with more customers (the higher number on ties).
 * So: decile numbers are within 1..10, ascending with the score, possibly with gaps; every listed decile
 * has >= minSize customers unless there is only one; sizes sum to n.
 */

export const MIN_DECILE_SIZE = 15;

export interface DecileBucket {
  decile: number;
  n: number;
}

export interface DecileAssignment {
  /** Decile number per row (input order). */
  deciles: Uint8Array;
  /** Non-empty deciles in ascending order with their sizes. */
  buckets: DecileBucket[];
}

/** Row indices by ascending score, ties by ascending index. */
function orderAscending(score: ArrayLike<number>): Uint32Array {
  const n = score.length;
  const idx = new Uint32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  idx.sort((a, b) => score[a] - score[b] || a - b);
  return idx;
}

export function assignDeciles(score: ArrayLike<number>, minSize: number = MIN_DECILE_SIZE): DecileAssignment {
  const n = score.length;
  const deciles = new Uint8Array(n);
  if (n === 0) return { deciles, buckets: [] };
  const idx = orderAscending(score);
  // Boundaries p[0..10], p[0] = 0, p[10] = n; decile k = ranking positions [p[k-1], p[k]).
  const p = new Int32Array(11);
  p[10] = n;
  for (let k = 1; k <= 9; k++) {
    const b = Math.round((k * n) / 10);
    let s = b;
    let e = b;
    if (b > 0 && b < n && score[idx[b - 1]] === score[idx[b]]) {
      const v = score[idx[b]];
      while (s > 0 && score[idx[s - 1]] === v) s--;
      while (e < n && score[idx[e]] === v) e++;
    }
    p[k] = b - s < e - b ? s : e;
  }
  // Live (non-empty) buckets as parallel arrays.
  const num: number[] = [];
  const size: number[] = [];
  for (let k = 1; k <= 10; k++) {
    const m = p[k] - p[k - 1];
    if (m > 0) {
      num.push(k);
      size.push(m);
    }
  }
  for (;;) {
    if (num.length <= 1) break;
    let j = -1;
    for (let i = 0; i < num.length; i++) if (size[i] < minSize && (j < 0 || size[i] < size[j])) j = i;
    if (j < 0) break;
    let other: number;
    if (j === 0) other = 1;
    else if (j === num.length - 1) other = j - 1;
    else other = size[j - 1] < size[j + 1] ? j - 1 : j + 1;
    const keep =
      size[other] > size[j] ? num[other] : size[other] < size[j] ? num[j] : Math.max(num[other], num[j]);
    const lo = Math.min(j, other);
    num[lo] = keep;
    size[lo] = size[j] + size[other];
    num.splice(lo + 1, 1);
    size.splice(lo + 1, 1);
  }
  let pos = 0;
  const buckets: DecileBucket[] = [];
  for (let i = 0; i < num.length; i++) {
    for (let k = 0; k < size[i]; k++) deciles[idx[pos++]] = num[i];
    buckets.push({ decile: num[i], n: size[i] });
  }
  return { deciles, buckets };
}
