/**
 * K-fold assignment stratified by treatment x outcome (4 strata), seeded and deterministic.
 *
 * Each stratum's rows (in input order) are shuffled with a Fisher-Yates shuffle driven by
 * createRng(deriveSeed(seed, 0xf01d, stratum)); the shuffled rows are then dealt round-robin to folds,
 * each stratum starting at the fold where the previous stratum stopped, so every fold gets
 * floor(n_s / k) or ceil(n_s / k) rows of each stratum and fold sizes differ by at most 1 overall.
 */
import { createRng, deriveSeed } from '../rng.js';

export const DEFAULT_FOLDS = 3;

/** Fold id 0..k-1 per row. */
export function stratifiedFolds(
  treatment: Uint8Array,
  outcome: Uint8Array,
  seed: number,
  k: number = DEFAULT_FOLDS,
): Uint8Array {
  const n = treatment.length;
  if (outcome.length !== n) throw new RangeError('stratifiedFolds: treatment and outcome lengths differ');
  if (!Number.isInteger(k) || k < 2 || k > 255) throw new RangeError('stratifiedFolds: k must be an integer in [2, 255]');
  const counts = new Int32Array(4);
  for (let i = 0; i < n; i++) counts[treatment[i] * 2 + outcome[i]]++;
  const start = new Int32Array(5);
  for (let s = 0; s < 4; s++) start[s + 1] = start[s] + counts[s];
  const members = new Uint32Array(n);
  const fill = start.slice(0, 4);
  for (let i = 0; i < n; i++) members[fill[treatment[i] * 2 + outcome[i]]++] = i;
  const folds = new Uint8Array(n);
  let next = 0;
  for (let s = 0; s < 4; s++) {
    const rng = createRng(deriveSeed(seed, 0xf01d, s));
    const a = start[s];
    const m = counts[s];
    for (let j = m - 1; j > 0; j--) {
      const r = rng.int(j + 1);
      const tmp = members[a + j];
      members[a + j] = members[a + r];
      members[a + r] = tmp;
    }
    for (let j = 0; j < m; j++) {
      folds[members[a + j]] = next;
      next = next + 1 === k ? 0 : next + 1;
    }
  }
  return folds;
}

/** Train and test row indices (ascending) of fold `fold`. */
export function foldRows(folds: Uint8Array, fold: number): { train: Uint32Array; test: Uint32Array } {
  let nTest = 0;
  for (let i = 0; i < folds.length; i++) if (folds[i] === fold) nTest++;
  const test = new Uint32Array(nTest);
  const train = new Uint32Array(folds.length - nTest);
  let a = 0;
  let b = 0;
  for (let i = 0; i < folds.length; i++) {
    if (folds[i] === fold) test[a++] = i;
    else train[b++] = i;
  }
  return { train, test };
}
