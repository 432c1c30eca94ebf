/**
 * Split normalisation I(A) of Rzepakowski & Jaroszewicz (2012, "Decision trees for uplift modeling
 * with single and multiple treatments", sec. on the KL gain ratio), for a binary split A and one
 * treatment group, as used by causalml's UpliftTreeClassifier for every criterion:
 *
 *   I = H(nT/N, nC/N) * KL(qT || qC) + (nT/N) * H(qT) + (nC/N) * H(qC) + 1/2
 *
 * where qT = nT_left / nT and qC = nC_left / nC are the shares of treated and control rows sent left,
 * H is the binary entropy and KL the Bernoulli divergence (probabilities clipped to [1e-6, 1 - 1e-6]).
 * It grows for splits that send treated and control rows to the children in different proportions
 * and for unbalanced splits, and never falls below 1/2.
 *
 * Deviation from causalml's `normI`, on purpose: causalml keeps only the left-branch term of each
 * entropy (-p log p) and uses the cross term -(nT/N) log(nC/N) for H(nT/N, nC/N), which makes a
 * split's score depend on which child is called "left". The paper's symmetric form is used here, so
 * a split and its mirror score the same.
 */
const EPS = 1e-6;

function clip(p: number): number {
  return p < EPS ? EPS : p > 1 - EPS ? 1 - EPS : p;
}

function entropy(p: number): number {
  let h = 0;
  if (p > 0) h -= p * Math.log(p);
  if (p < 1) h -= (1 - p) * Math.log(1 - p);
  return h;
}

function bernoulliKL(p: number, q: number): number {
  const pp = clip(p);
  const qq = clip(q);
  return pp * Math.log(pp / qq) + (1 - pp) * Math.log((1 - pp) / (1 - qq));
}

export function normalization(nT: number, nC: number, nTLeft: number, nCLeft: number): number {
  const N = nT + nC;
  if (nT <= 0 || nC <= 0) return 0.5 + (nT > 0 ? entropy(nTLeft / nT) : entropy(nCLeft / nC));
  const qT = nTLeft / nT;
  const qC = nCLeft / nC;
  const shareT = nT / N;
  return entropy(shareT) * bernoulliKL(qT, qC) + shareT * entropy(qT) + (1 - shareT) * entropy(qC) + 0.5;
}
