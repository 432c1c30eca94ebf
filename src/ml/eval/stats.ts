/**
 * Statistics behind the `evaluation` block of a response (issue 4). Pure functions: typed arrays (or any
 * array-like of numbers) in, plain objects out. Nothing here draws random numbers.
 *
 * Conventions: `t` and `y` are 0/1 per row (treatment, outcome); scores are per row, same order.
 */

import { qiniCurve } from './qini.js';

// ---------------------------------------------------------------------------------------------------
// The normal distribution
// ---------------------------------------------------------------------------------------------------

/**
 * Complementary error function. Chebyshev fit from Press et al., "Numerical Recipes" (2nd ed., 6.2,
 * `erfcc`): fractional error below 1.2e-7 everywhere, including the far tail (so small p-values keep
 * their relative accuracy).
 */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const u = 1 / (1 + 0.5 * z);
  const r =
    u *
    Math.exp(
      -z * z -
        1.26551223 +
        u *
          (1.00002368 +
            u *
              (0.37409196 +
                u *
                  (0.09678418 +
                    u *
                      (-0.18628806 +
                        u * (0.27886807 + u * (-1.13520398 + u * (1.48851587 + u * (-0.82215223 + u * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/** P(Z > z) for a standard normal Z. */
export function normalSf(z: number): number {
  return 0.5 * erfc(z / Math.SQRT2);
}

/** P(Z <= z) for a standard normal Z. */
export function normalCdf(z: number): number {
  return 0.5 * erfc(-z / Math.SQRT2);
}

/** The 97.5 % quantile of the standard normal (two-sided 95 % intervals). */
export const Z975 = 1.959963984540054;

// ---------------------------------------------------------------------------------------------------
// 1. ATE with a contamination-corrected Wald interval
// ---------------------------------------------------------------------------------------------------

export interface GroupCounts {
  nTreated: number;
  convTreated: number;
  nControl: number;
  convControl: number;
}

/** Counts of rows and conversions per group (over all rows, or over `rows` when given). */
export function groupCounts(t: ArrayLike<number>, y: ArrayLike<number>, rows?: ArrayLike<number>): GroupCounts {
  let nT = 0;
  let cT = 0;
  let nC = 0;
  let cC = 0;
  const m = rows ? rows.length : t.length;
  for (let k = 0; k < m; k++) {
    const i = rows ? rows[k] : k;
    if (t[i] === 1) {
      nT++;
      cT += y[i];
    } else {
      nC++;
      cC += y[i];
    }
  }
  return { nTreated: nT, convTreated: cT, nControl: nC, convControl: cC };
}

/**
 * Difference of conversion rates with its unpooled (Wald) standard error
 * sqrt(p_t (1 - p_t) / n_t + p_c (1 - p_c) / n_c). NaN for a group with no rows.
 */
export function diffOfProportions(g: GroupCounts): { diff: number; se: number } {
  if (g.nTreated === 0 || g.nControl === 0) return { diff: NaN, se: NaN };
  const pt = g.convTreated / g.nTreated;
  const pc = g.convControl / g.nControl;
  return { diff: pt - pc, se: Math.sqrt((pt * (1 - pt)) / g.nTreated + (pc * (1 - pc)) / g.nControl) };
}

export interface AteInterval {
  estimate: number;
  ci95: [number, number];
  /** Standard error of `estimate` (already divided by 1 - c). */
  se: number;
}

/**
 * Average treatment effect of exposure: (cr_t - cr_c) / (1 - c), with the 95 % Wald interval
 * (cr_t - cr_c +- 1.96 se) / (1 - c), se the unpooled standard error of the difference of proportions.
 * Dividing by (1 - c) is the Wald / complier-effect correction for a share c of exposed control rows
 * (SPEC, "Contamination"); the interval is divided by the same constant.
 */
export function ateWithInterval(t: ArrayLike<number>, y: ArrayLike<number>, contamination = 0): AteInterval {
  if (!(contamination >= 0 && contamination < 1)) throw new RangeError('contamination must be in [0, 1)');
  const { diff, se } = diffOfProportions(groupCounts(t, y));
  const k = 1 / (1 - contamination);
  return { estimate: diff * k, ci95: [(diff - Z975 * se) * k, (diff + Z975 * se) * k], se: se * k };
}

// ---------------------------------------------------------------------------------------------------
// 2. Heterogeneity: the best-linear-predictor (BLP) calibration test
// ---------------------------------------------------------------------------------------------------

export const BLP_TEST_NAME =
  'BLP calibration test (Chernozhukov, Demirer, Duflo & Fernandez-Val), HC1 standard errors, one-sided';

export interface HeterogeneityResult {
  /** One-sided p-value of H0: slope <= 0 against slope > 0 (normal approximation). */
  p_value: number;
  /** p_value < 0.05. */
  significant: boolean;
  /** beta_2: the coefficient of (T - p)(S - mean S). 1 = scores calibrated, 0 = no signal. null if untestable. */
  slope: number | null;
  /** HC1 standard error of the slope; null if untestable. */
  slope_se: number | null;
  test: string;
}

/** Inverse of a k x k matrix (row-major) by Gauss-Jordan with partial pivoting; null if (near) singular. */
export function invertSmall(a: Float64Array, k: number): Float64Array | null {
  // Gauss-Jordan with partial pivoting on [A | I].
  const w = 2 * k;
  const m = new Float64Array(k * w);
  let scale = 0;
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) {
      m[i * w + j] = a[i * k + j];
      scale = Math.max(scale, Math.abs(a[i * k + j]));
    }
    m[i * w + k + i] = 1;
  }
  if (!(scale > 0)) return null;
  for (let c = 0; c < k; c++) {
    let piv = c;
    for (let r = c + 1; r < k; r++) if (Math.abs(m[r * w + c]) > Math.abs(m[piv * w + c])) piv = r;
    if (Math.abs(m[piv * w + c]) <= 1e-12 * scale) return null;
    if (piv !== c)
      for (let j = 0; j < w; j++) {
        const tmp = m[c * w + j];
        m[c * w + j] = m[piv * w + j];
        m[piv * w + j] = tmp;
      }
    const d = m[c * w + c];
    for (let j = 0; j < w; j++) m[c * w + j] /= d;
    for (let r = 0; r < k; r++) {
      if (r === c) continue;
      const f = m[r * w + c];
      if (f === 0) continue;
      for (let j = 0; j < w; j++) m[r * w + j] -= f * m[c * w + j];
    }
  }
  const inv = new Float64Array(k * k);
  for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) inv[i * k + j] = m[i * w + k + j];
  return inv;
}

/**
 * Does the out-of-fold score S rank customers by real differences in uplift?
 *
 * The BLP regression of Chernozhukov, Demirer, Duflo & Fernandez-Val ("Generic machine learning
 * inference on heterogeneous treatment effects in randomized experiments", strategy 1, eq. for the BLP),
 * with the known randomization propensity p = share of treated rows (constant, so the paper's weights
 * 1/(p(1-p)) are a constant and drop out):
 *
 *     Y = a0 + a1 (S - mean S) + b1 (T - p) + b2 (T - p)(S - mean S) + e
 *
 * by OLS, with HC1 (White, n/(n-k) corrected) standard errors. b2 is the slope of the true uplift on the
 * score; H0: b2 <= 0 (no heterogeneity the score can find), one-sided normal p-value for b2 > 0. This is
 * the same test as grf's `test_calibration` "differential forest prediction" coefficient, with the
 * constant propensity in place of W.hat and (a0 + a1 S) in place of the baseline Y.hat. Because T is
 * randomized independently of X and of the out-of-fold S, a baseline that varies with X goes into the
 * residual without biasing b2.
 *
 * Untestable cases (a group without rows, constant scores, singular design) give p_value 1,
 * significant false, slope and slope_se null.
 */
export function heterogeneityTest(
  t: ArrayLike<number>,
  y: ArrayLike<number>,
  oofScore: ArrayLike<number>,
  propensity?: number,
): HeterogeneityResult {
  const n = t.length;
  const untestable: HeterogeneityResult = { p_value: 1, significant: false, slope: null, slope_se: null, test: BLP_TEST_NAME };
  if (y.length !== n || oofScore.length !== n) throw new RangeError('heterogeneityTest: t, y and score lengths differ');
  const K = 4;
  if (n <= K) return untestable;
  let nt = 0;
  let sMean = 0;
  for (let i = 0; i < n; i++) {
    nt += t[i];
    sMean += oofScore[i];
  }
  sMean /= n;
  const p = propensity ?? nt / n;
  if (nt === 0 || nt === n || !(p > 0 && p < 1)) return untestable;

  // X'X and X'Y in one pass. x = [1, s, d, d*s] with s = S - mean S, d = T - p.
  const xtx = new Float64Array(K * K);
  const xty = new Float64Array(K);
  const x = new Float64Array(K);
  for (let i = 0; i < n; i++) {
    const s = oofScore[i] - sMean;
    const d = t[i] - p;
    x[0] = 1;
    x[1] = s;
    x[2] = d;
    x[3] = d * s;
    const yi = y[i];
    for (let a = 0; a < K; a++) {
      xty[a] += x[a] * yi;
      for (let b = a; b < K; b++) xtx[a * K + b] += x[a] * x[b];
    }
  }
  for (let a = 0; a < K; a++) for (let b = 0; b < a; b++) xtx[a * K + b] = xtx[b * K + a];
  const inv = invertSmall(xtx, K);
  if (!inv) return untestable;
  const beta = new Float64Array(K);
  for (let a = 0; a < K; a++) {
    let v = 0;
    for (let b = 0; b < K; b++) v += inv[a * K + b] * xty[b];
    beta[a] = v;
  }

  // Meat: sum e_i^2 x_i x_i'.
  const meat = new Float64Array(K * K);
  for (let i = 0; i < n; i++) {
    const s = oofScore[i] - sMean;
    const d = t[i] - p;
    x[0] = 1;
    x[1] = s;
    x[2] = d;
    x[3] = d * s;
    const e = y[i] - (beta[0] + beta[1] * s + beta[2] * d + beta[3] * d * s);
    const e2 = e * e;
    for (let a = 0; a < K; a++) for (let b = a; b < K; b++) meat[a * K + b] += e2 * x[a] * x[b];
  }
  for (let a = 0; a < K; a++) for (let b = 0; b < a; b++) meat[a * K + b] = meat[b * K + a];

  // Only the (3,3) element of inv * meat * inv is needed.
  let v33 = 0;
  for (let a = 0; a < K; a++) for (let b = 0; b < K; b++) v33 += inv[3 * K + a] * meat[a * K + b] * inv[b * K + 3];
  v33 *= n / (n - K);
  const se = Math.sqrt(v33);
  const slope = beta[3];
  if (!(se > 0) || !Number.isFinite(slope)) return untestable;
  const pValue = normalSf(slope / se);
  return { p_value: pValue, significant: pValue < 0.05, slope, slope_se: se, test: BLP_TEST_NAME };
}

export interface CrossFitHeterogeneityResult extends HeterogeneityResult {
  /** Raw one-sided p-value of the BLP test within each fold (fold id order; 1 if untestable there). */
  fold_p_values: number[];
  /**
   * Optional (withCandidates): the unadjusted pooled p-value (crossFitRawPValue) of every candidate
   * configuration model selection compared, in model.cv order.
   */
  candidate_p_values?: number[];
}

/** Variance inflation of the pooled cross-fitted BLP statistic (see crossFitHeterogeneityTest). */
export const CROSS_FIT_VARIANCE_FACTOR = 2;

/**
 * The BLP test for cross-fitted (out-of-fold) scores: one regression over all rows (heterogeneityTest),
 * with the HC1 variance of the slope doubled, then Bonferroni over `candidates`.
 *
 * Why the doubling: fold k's scores come from a model fitted on the other folds, so row j's noise
 * (t_j - p) e_j enters the scores of rows i in other folds, and vice versa. To first order in each row's
 * influence w_ij on another row's score, the slope's numerator is A + sum over ordered fold pairs of
 * C_kl = sum_{i in k, j in l} w_ij (d_i e_i)(d_j e_j); HC1 estimates Var(A) + sum Var(C_kl) but misses
 * Cov(C_kl, C_lk) (same products, weights w_ij and w_ji), which is at most sum Var(C_kl) by
 * Cauchy-Schwarz. So under H0 the true variance is at most twice what HC1 estimates (asymptotically, to
 * first order), and reaches about twice when the score variation is all fitted noise with symmetric
 * influence (as for forests and bin-average models: measured z sd ~1.4 = sqrt 2 on simulated
 * cross-fitted null data, test/ml/stats.test.ts). Each fold's own regression is exactly valid but has a
 * third of the rows; combining the fold tests validly under unknown dependence (e.g. Rueger's rule) was
 * measured to lose too much power, so their raw p-values are only reported (`fold_p_values`).
 * Then `candidates` (Bonferroni): the scores are those of the configuration with the best out-of-fold
 * Qini among `candidates`, judged on these same rows.
 * `slope` is the pooled b2; `slope_se` the inflated standard error, so p = P(Z > slope / slope_se) x G.
 */
export function crossFitHeterogeneityTest(
  t: ArrayLike<number>,
  y: ArrayLike<number>,
  oofScore: ArrayLike<number>,
  folds: ArrayLike<number>,
  candidates = 1,
): CrossFitHeterogeneityResult {
  const n = t.length;
  if (folds.length !== n) throw new RangeError('crossFitHeterogeneityTest: folds length differs');
  let K = 0;
  let nt = 0;
  for (let i = 0; i < n; i++) {
    if (folds[i] + 1 > K) K = folds[i] + 1;
    nt += t[i];
  }
  const G = Math.max(1, Math.floor(candidates));
  const pooled = heterogeneityTest(t, y, oofScore);
  const size = new Int32Array(K);
  for (let i = 0; i < n; i++) size[folds[i]]++;
  const foldP: number[] = [];
  for (let f = 0; f < K; f++) {
    if (size[f] === 0) continue;
    const tf = new Uint8Array(size[f]);
    const yf = new Uint8Array(size[f]);
    const sf = new Float64Array(size[f]);
    let j = 0;
    for (let i = 0; i < n; i++)
      if (folds[i] === f) {
        tf[j] = t[i];
        yf[j] = y[i];
        sf[j] = oofScore[i];
        j++;
      }
    foldP.push(heterogeneityTest(tf, yf, sf, nt / n).p_value);
  }
  const test =
    `${BLP_TEST_NAME}; pooled over ${foldP.length} cross-fitted folds with the slope variance doubled` +
    (G > 1 ? `; Bonferroni-adjusted for ${G} candidate configurations` : '');
  if (pooled.slope === null || pooled.slope_se === null)
    return { p_value: 1, significant: false, slope: null, slope_se: null, test, fold_p_values: foldP };
  const se = pooled.slope_se * Math.sqrt(CROSS_FIT_VARIANCE_FACTOR);
  const pValue = Math.min(1, normalSf(pooled.slope / se) * G);
  return { p_value: pValue, significant: pValue < 0.05, slope: pooled.slope, slope_se: se, test, fold_p_values: foldP };
}

/**
 * The unadjusted one-sided p-value of crossFitHeterogeneityTest's pooled statistic (HC1 slope variance
 * doubled) for one set of out-of-fold scores; 1 when untestable. crossFitHeterogeneityTest(..., G)
 * returns min(1, G x this) for the same scores.
 */
export function crossFitRawPValue(t: ArrayLike<number>, y: ArrayLike<number>, oofScore: ArrayLike<number>): number {
  const h = heterogeneityTest(t, y, oofScore);
  if (h.slope === null || h.slope_se === null) return 1;
  return normalSf(h.slope / (h.slope_se * Math.sqrt(CROSS_FIT_VARIANCE_FACTOR)));
}

/**
 * The heterogeneity decision over all G candidates model selection compared (Bonferroni's global test):
 * p = min(1, G x min_g p_g), p_g = crossFitRawPValue of candidate g's out-of-fold scores. Valid for
 * H0 "no candidate's out-of-fold ranking carries information on the uplift" whichever candidate was
 * chosen (P(min_g p_g <= a / G) <= sum_g P(p_g <= a / G) <= a), and never larger than the chosen
 * candidate's own Bonferroni-adjusted p-value (`chosen.p_value`, which is G x one of the p_g), so it
 * keeps that test's level with more power when selection by Qini did not pick the candidate with the
 * strongest out-of-fold signal. slope / slope_se / fold_p_values stay the chosen candidate's.
 */
export function withCandidates(chosen: CrossFitHeterogeneityResult, candidateP: readonly number[]): CrossFitHeterogeneityResult {
  const G = candidateP.length;
  if (G === 0) return chosen;
  let min = 1;
  for (const p of candidateP) if (p < min) min = p;
  const p = Math.min(1, chosen.p_value, min * G);
  return {
    ...chosen,
    p_value: p,
    significant: p < 0.05,
    test:
      `${BLP_TEST_NAME}; pooled over the cross-fitted folds with the slope variance doubled; p-value: ` +
      `Bonferroni over the ${G} candidate configurations' out-of-fold scores (${G} x the smallest); slope: the chosen candidate's`,
    candidate_p_values: [...candidateP],
  };
}

// ---------------------------------------------------------------------------------------------------
// 3. What each decile of the out-of-fold ranking really did
// ---------------------------------------------------------------------------------------------------

export interface EvaluationDecile {
  decile: number;
  n_customers: number;
  n_treated: number;
  n_control: number;
  /** Mean out-of-fold score of the decile (each score / (1 - c), clipped to [-1, 1]). */
  predicted_uplift: number;
  /** (cr_t - cr_c) / (1 - c) within the decile; null when the decile lacks treated or control rows. */
  observed_uplift: number | null;
  /** Unpooled standard error of observed_uplift (also / (1 - c)); null as above. */
  observed_uplift_se: number | null;
}

/**
 * Per decile of the out-of-fold scores (ids 1..255 in `decilesOfOof`; only deciles that occur are listed,
 * ascending): counts, mean predicted uplift and the uplift observed on those rows, which no model that
 * produced their scores was trained on. `contamination` (default 0) puts predicted and observed uplift on
 * the same corrected scale as the returned scores and ATE.
 */
export function evaluationDeciles(
  t: ArrayLike<number>,
  y: ArrayLike<number>,
  oofScore: ArrayLike<number>,
  decilesOfOof: ArrayLike<number>,
  contamination = 0,
): EvaluationDecile[] {
  const n = t.length;
  if (y.length !== n || oofScore.length !== n || decilesOfOof.length !== n)
    throw new RangeError('evaluationDeciles: input lengths differ');
  const k = 1 / (1 - contamination);
  const nT = new Float64Array(256);
  const cT = new Float64Array(256);
  const nC = new Float64Array(256);
  const cC = new Float64Array(256);
  const sum = new Float64Array(256);
  for (let i = 0; i < n; i++) {
    const d = decilesOfOof[i];
    if (!(d >= 0 && d < 256)) throw new RangeError(`evaluationDeciles: decile id ${d} out of range`);
    const s = Math.max(-1, Math.min(1, oofScore[i] * k));
    sum[d] += s;
    if (t[i] === 1) {
      nT[d]++;
      cT[d] += y[i];
    } else {
      nC[d]++;
      cC[d] += y[i];
    }
  }
  const out: EvaluationDecile[] = [];
  for (let d = 0; d < 256; d++) {
    const m = nT[d] + nC[d];
    if (m === 0) continue;
    const { diff, se } = diffOfProportions({ nTreated: nT[d], convTreated: cT[d], nControl: nC[d], convControl: cC[d] });
    out.push({
      decile: d,
      n_customers: m,
      n_treated: nT[d],
      n_control: nC[d],
      predicted_uplift: sum[d] / m,
      observed_uplift: Number.isFinite(diff) ? diff * k : null,
      observed_uplift_se: Number.isFinite(se) ? se * k : null,
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// 4. The Qini curve at fixed population fractions
// ---------------------------------------------------------------------------------------------------

export interface QiniPoint {
  /** Share of the population targeted, highest scores first. */
  fraction: number;
  /** scikit-uplift's qini_curve value at that share (linear between its tie-block points). */
  incremental_conversions: number;
  /** The straight line from (0, 0) to the curve's end (targeting at random). */
  random: number;
}

/**
 * scikit-uplift's qini curve (qini.ts: points at the end of each block of tied scores) read off at
 * fractions 0, step, 2 step, ..., 1 of the population. Between two points of the curve the value is
 * interpolated linearly, which is the same curve the trapezoid-rule Qini coefficient integrates.
 */
export function qiniCurvePoints(
  y: ArrayLike<number>,
  score: ArrayLike<number>,
  t: ArrayLike<number>,
  step = 0.05,
): QiniPoint[] {
  if (!(step > 0 && step <= 1)) throw new RangeError('qiniCurvePoints: step must be in (0, 1]');
  const n = score.length;
  const curve = qiniCurve(y, score, t);
  const last = curve.x.length - 1;
  const total = curve.y[last];
  const fractions: number[] = [];
  const steps = Math.ceil(1 / step - 1e-9);
  for (let k = 0; k < steps; k++) fractions.push(Math.round(k * step * 1e12) / 1e12);
  fractions.push(1);
  const out: QiniPoint[] = [];
  let j = 0; // curve segment [j, j+1] containing x
  for (const f of fractions) {
    const xf = f * n;
    while (j < last - 1 && curve.x[j + 1] < xf) j++;
    let v: number;
    if (last === 0) v = 0;
    else {
      const x0 = curve.x[j];
      const x1 = curve.x[j + 1];
      const w = x1 > x0 ? Math.max(0, Math.min(1, (xf - x0) / (x1 - x0))) : 1;
      v = curve.y[j] + w * (curve.y[j + 1] - curve.y[j]);
    }
    out.push({ fraction: f, incremental_conversions: v, random: f * total });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// 5. ROC AUC (for the randomization check)
// ---------------------------------------------------------------------------------------------------

/**
 * Area under the ROC curve = the Mann-Whitney statistic U / (n1 n0): rank all scores ascending, tied
 * scores get the average of their ranks, AUC = (R1 - n1 (n1 + 1) / 2) / (n1 n0) with R1 the rank sum of
 * the positives. NaN when a class is absent.
 */
export function aucScore(labels: ArrayLike<number>, scores: ArrayLike<number>): number {
  const n = labels.length;
  if (scores.length !== n) throw new RangeError('aucScore: lengths differ');
  const idx = new Uint32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  idx.sort((a, b) => scores[a] - scores[b]);
  let n1 = 0;
  let r1 = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && scores[idx[j + 1]] === scores[idx[i]]) j++;
    const avgRank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++)
      if (labels[idx[k]] === 1) {
        n1++;
        r1 += avgRank;
      }
    i = j + 1;
  }
  const n0 = n - n1;
  if (n1 === 0 || n0 === 0) return NaN;
  return (r1 - (n1 * (n1 + 1)) / 2) / (n1 * n0);
}

/**
 * Standard deviation of the AUC when scores carry no information about the labels (Mann-Whitney null
 * variance of U, n1 n0 (n1 + n0 + 1) / 12, divided by (n1 n0)^2; no tie correction).
 */
export function aucNullSe(n1: number, n0: number): number {
  return Math.sqrt((n1 + n0 + 1) / (12 * n1 * n0));
}
