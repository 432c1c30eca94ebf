/**
 * Split criteria of the uplift tree: a divergence D(p_treated, p_control) of a node; a split's gain is
 * (n_l/n) D_l + (n_r/n) D_r - D_parent, divided by `normalization` (causalml UpliftTreeClassifier).
 * A tree picks its divergence once; the split scan calls it through one monomorphic variable.
 */
import type { Criterion } from '../../types.js';
import { klDivergence } from './kl.js';
import { euclidean } from './ed.js';
import { chiSquared } from './chi.js';

export type Divergence = (pt: number, pc: number) => number;

export { klDivergence, euclidean, chiSquared };
export { normalization } from './norm.js';

export function divergenceFor(criterion: Criterion): Divergence {
  if (criterion === 'KL') return klDivergence;
  if (criterion === 'ED') return euclidean;
  if (criterion === 'Chi') return chiSquared;
  throw new Error(`unknown criterion ${String(criterion)}`);
}

/**
 * causalml's node summary rate: a child's rate is shrunk toward its parent's with n_reg pseudo-rows,
 * (y + parent * nReg) / (n + nReg), and is the parent's rate when the child has at most
 * minSamplesTreatment rows of that group.
 */
export function shrunkRate(y: number, n: number, parent: number, nReg: number, minSamplesTreatment: number): number {
  return n > minSamplesTreatment ? (y + parent * nReg) / (n + nReg) : parent;
}
