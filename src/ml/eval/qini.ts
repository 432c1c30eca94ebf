/**
 * The Qini curve and coefficient, defined exactly as scikit-uplift's `sklift.metrics.qini_curve` and
 * `qini_auc_score(..., negative_effect=True)` (formula read from scikit-uplift's metrics module; this is
 * an independent implementation):
 *
 * - Sort rows by score, descending. A point is emitted at the END of every block of tied scores (ties
 *   are one block: their order inside the block never matters), at x = number of rows seen so far,
 *   y = conv_treated - conv_control * n_treated / n_control (0 when n_control = 0), counts cumulative.
 *   The point (0, 0) is prepended.
 * - The "perfect" curve is the same curve for the score y*t - y*(1-t) (treated converters first,
 *   control converters last: the negative_effect=True variant).
 * - The random line joins (0, 0) to the last point of the perfect curve (which equals the last point of
 *   every curve on the same rows).
 * - qini = (area(model) - area(random)) / (area(perfect) - area(random)), areas by the trapezoid rule.
 *   When area(perfect) = area(random) (e.g. no converters) the ratio is NaN, as in scikit-uplift.
 */

export interface QiniCurve {
  /** Number of rows targeted, 0 first. */
  x: Float64Array;
  /** Incremental conversions at x. */
  y: Float64Array;
}

/**
 * Row indices ordered by score descending (ties by ascending index: any order inside a tie block gives
 * the same curve). One comparison sort, O(n log n).
 */
export function orderDescending(score: ArrayLike<number>): Uint32Array {
  const n = score.length;
  const idx = new Uint32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  idx.sort((a, b) => score[b] - score[a] || a - b);
  return idx;
}

/** Index of `v` in the ascending distinct values uniq[0, d) (v must be present). */
function blockOf(uniq: Float64Array, d: number, v: number): number {
  let lo = 0;
  let hi = d - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (uniq[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * scikit-uplift's qini_curve. `y`, `t` are 0/1 per row; scores must not be NaN.
 * One native numeric sort of a copy of the scores gives the distinct values (the tie blocks); each row's
 * counts are added to its block (binary search), then the blocks are walked from the highest score.
 */
export function qiniCurve(y: ArrayLike<number>, score: ArrayLike<number>, t: ArrayLike<number>): QiniCurve {
  const n = score.length;
  if (y.length !== n || t.length !== n) throw new RangeError('qiniCurve: y, score and t must have the same length');
  const sorted = Float64Array.from(score).sort();
  if (n > 0 && Number.isNaN(sorted[n - 1])) throw new RangeError('qiniCurve: scores must not be NaN');
  const uniq = new Float64Array(n);
  let d = 0;
  for (let i = 0; i < n; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) uniq[d++] = sorted[i];
  const rowsIn = new Int32Array(d);
  const treatedIn = new Int32Array(d);
  const convT = new Int32Array(d);
  const convC = new Int32Array(d);
  for (let i = 0; i < n; i++) {
    const b = blockOf(uniq, d, score[i]);
    const ti = t[i];
    rowsIn[b]++;
    treatedIn[b] += ti;
    convT[b] += y[i] * ti;
    convC[b] += y[i] * (1 - ti);
  }
  const xs = new Float64Array(d + 1);
  const ys = new Float64Array(d + 1);
  let seen = 0;
  let nt = 0;
  let yt = 0;
  let yc = 0;
  for (let b = d - 1, p = 1; b >= 0; b--, p++) {
    seen += rowsIn[b];
    nt += treatedIn[b];
    yt += convT[b];
    yc += convC[b];
    const nc = seen - nt;
    xs[p] = seen;
    ys[p] = yt - (nc !== 0 ? (yc * nt) / nc : 0);
  }
  return { x: xs, y: ys };
}

/**
 * The perfect curve for negative_effect=True without sorting: the score y*t - y*(1-t) takes the values
 * 1 (treated converters), 0 (non-converters), -1 (control converters), so its curve has at most three
 * blocks, in that order; empty blocks emit no point.
 */
export function perfectQiniCurve(y: ArrayLike<number>, t: ArrayLike<number>): QiniCurve {
  const n = y.length;
  let n1 = 0; // treated converters (score 1)
  let n0t = 0; // treated non-converters (score 0)
  let n0 = 0; // all non-converters (score 0)
  let nm = 0; // control converters (score -1)
  for (let i = 0; i < n; i++) {
    if (y[i] === 1) {
      if (t[i] === 1) n1++;
      else nm++;
    } else {
      n0++;
      if (t[i] === 1) n0t++;
    }
  }
  const xs: number[] = [0];
  const ys: number[] = [0];
  if (n1 > 0) {
    xs.push(n1);
    ys.push(n1); // no control rows yet
  }
  if (n0 > 0) {
    xs.push(n1 + n0);
    ys.push(n1); // no control converters yet, so nothing is subtracted
  }
  if (nm > 0) {
    const nt = n1 + n0t;
    const nc = n - nt;
    xs.push(n);
    ys.push(n1 - (nc !== 0 ? (nm * nt) / nc : 0));
  }
  return { x: Float64Array.from(xs), y: Float64Array.from(ys) };
}

/** Trapezoid-rule area under a curve (sklearn.metrics.auc for increasing x). */
export function trapezoidArea(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let a = 0;
  for (let i = 1; i < x.length; i++) a += ((x[i] - x[i - 1]) * (y[i] + y[i - 1])) / 2;
  return a;
}

/** scikit-uplift's qini_auc_score(y_true, uplift, treatment, negative_effect=True). */
export function qiniAucScore(y: ArrayLike<number>, score: ArrayLike<number>, t: ArrayLike<number>): number {
  const model = qiniCurve(y, score, t);
  const perfect = perfectQiniCurve(y, t);
  const last = perfect.x.length - 1;
  const base = (perfect.x[last] * perfect.y[last]) / 2; // area under the straight line from (0,0)
  return (trapezoidArea(model.x, model.y) - base) / (trapezoidArea(perfect.x, perfect.y) - base);
}

/**
 * Qini of the rows listed in `rows` only (e.g. one fold's test rows), with `score[k]` the score of
 * rows[k]. Copies the fold's labels once; then as qiniAucScore.
 */
export function qiniAucScoreOfRows(
  yAll: ArrayLike<number>,
  tAll: ArrayLike<number>,
  rows: Uint32Array,
  score: ArrayLike<number>,
): number {
  const m = rows.length;
  const y = new Uint8Array(m);
  const t = new Uint8Array(m);
  for (let k = 0; k < m; k++) {
    y[k] = yAll[rows[k]];
    t[k] = tAll[rows[k]];
  }
  return qiniAucScore(y, score, t);
}
