/**
 * T-learner (Künzel et al. 2019, "Metalearners for estimating heterogeneous treatment effects"):
 * one classifier of P(outcome | x) fitted on the treated rows, one on the control rows;
 * uplift(x) = p1(x) - p0(x). Both classifiers are the histogram GBM of gbm.ts.
 *
 * Optional shared base (on by default, see defaults.ts): a GBM is first fitted on ALL rows (outcome
 * only, treatment ignored); each arm's GBM then boosts from that base model's raw scores (LightGBM's
 * init_score) on its own rows. p_t(x) = sigmoid(base(x) + arm_t(x)). The baseline structure is then
 * estimated once, on twice the rows, and its estimation error largely cancels in p1 - p0; the arm models
 * only have to learn how each arm departs from the pooled model. Still one model per arm on that arm's
 * rows (a T-learner), with a common starting point.
 */
import type { BinnedDataset, FittedModel, TLearnerConfig } from '../types.js';
import { deriveSeed } from '../rng.js';
import { GbmModel, fitGbmClassifier, type GbmBuffers, type GbmParams } from './gbm.js';
import { TLEARNER_ARM_EXTRAS, TLEARNER_BASE } from './defaults.js';
import { packRows } from './histogram.js';
import { refinePooled, refinedView, type Refinement } from '../data/encode.js';

export interface TLearnerOptions {
  /** Parameters of the shared base model on all rows; null = classic T-learner (no base). */
  base: GbmParams | null;
  /** Parameters of the two arm models. */
  arm: GbmParams;
}

/**
 * The exact GBM parameters a configuration stands for: the arms get the configuration's own values
 * plus TLEARNER_ARM_EXTRAS; the base is TLEARNER_BASE (defaults.ts).
 */
export function tlearnerOptions(config: TLearnerConfig): TLearnerOptions {
  const arm: GbmParams = {
    ...TLEARNER_ARM_EXTRAS,
    nIter: config.nIter,
    learningRate: config.learningRate,
    maxDepth: config.maxDepth,
    minSamplesLeaf: config.minSamplesLeaf,
    l2: config.l2,
  };
  return { base: TLEARNER_BASE ? { ...TLEARNER_BASE } : null, arm };
}

const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

export interface TLearnerBuffers {
  base: GbmBuffers | null;
  treated: GbmBuffers;
  control: GbmBuffers;
  /** Pooled-bin refinements of the fit (data/encode.ts refinePooled); absent = none. */
  refinements?: Refinement[];
}

export class TLearnerModel implements FittedModel {
  constructor(
    readonly base: GbmModel | null,
    readonly treated: GbmModel,
    readonly control: GbmModel,
    /** Pooled-bin refinements the models were fitted with (their splits refer to the refined bins). */
    readonly refinements: Refinement[] = [],
  ) {}

  /** P(outcome | treated, x) and P(outcome | control, x) of the given rows (default: all). */
  predictArms(data: BinnedDataset, rows?: Uint32Array): { p1: Float64Array; p0: Float64Array } {
    data = refinedView(data, this.refinements);
    const p1 = this.treated.predictRaw(data, rows);
    const p0 = this.control.predictRaw(data, rows);
    const b = this.base ? this.base.predictRaw(data, rows) : null;
    for (let i = 0; i < p1.length; i++) {
      const o = b ? b[i] : 0;
      p1[i] = sigmoid(p1[i] + o);
      p0[i] = sigmoid(p0[i] + o);
    }
    return { p1, p0 };
  }

  predict(data: BinnedDataset, rows?: Uint32Array): Float64Array {
    const { p1, p0 } = this.predictArms(data, rows);
    for (let i = 0; i < p1.length; i++) p1[i] -= p0[i];
    return p1;
  }

  /**
   * Sum of the two arm classifiers' total split gains per feature (the shared base model, which only
   * explains the outcome, is not counted: it adds the same to both arms).
   */
  importance(): Float64Array {
    const a = this.treated.importance();
    const b = this.control.importance();
    for (let i = 0; i < a.length; i++) a[i] += b[i];
    return a;
  }

  toBuffers(): TLearnerBuffers {
    return {
      base: this.base ? this.base.toBuffers() : null,
      treated: this.treated.toBuffers(),
      control: this.control.toBuffers(),
      ...(this.refinements.length > 0 ? { refinements: this.refinements } : {}),
    };
  }

  static fromBuffers(b: TLearnerBuffers): TLearnerModel {
    return new TLearnerModel(
      b.base ? GbmModel.fromBuffers(b.base) : null,
      GbmModel.fromBuffers(b.treated),
      GbmModel.fromBuffers(b.control),
      b.refinements ?? [],
    );
  }
}

/**
 * Fits the T-learner on `rows` of `data` (labels = data.outcome, arms = data.treatment).
 * `options` (default: tlearnerOptions(config)) gives the exact GBM parameters, e.g. for benchmarks.
 */
export function fitTLearner(
  data: BinnedDataset,
  rows: Uint32Array,
  config: TLearnerConfig,
  seed: number,
  options: TLearnerOptions = tlearnerOptions(config),
): TLearnerModel {
  return fitTLearners(data, rows, [config], [seed], [options])[0];
}

/**
 * Fits several T-learner configurations on the same rows, sharing what they have in common: the split
 * of rows into arms, the packed bins and, when their base parameters are equal and deterministic (no
 * row/feature subsampling, as TLEARNER_BASE), the base model itself, fitted once with seeds[0]. Each
 * result equals fitTLearner(data, rows, configs[i], seeds[i], options[i]). Useful when one worker runs
 * every T-learner configuration of a fold (the base is about half of a fit).
 */
export function fitTLearners(
  data: BinnedDataset,
  rows: Uint32Array,
  configs: readonly TLearnerConfig[],
  seeds: readonly number[],
  options: readonly TLearnerOptions[] = configs.map(tlearnerOptions),
): TLearnerModel[] {
  // pooled high-cardinality levels refined from these rows only (data/encode.ts refinePooled)
  const { train, refinements } = refinePooled(data, rows);
  data = train;
  let nt = 0;
  for (let k = 0; k < rows.length; k++) nt += data.treatment[rows[k]];
  const tRows = new Uint32Array(nt);
  const cRows = new Uint32Array(rows.length - nt);
  for (let k = 0, a = 0, b = 0; k < rows.length; k++) {
    const r = rows[k];
    if (data.treatment[r] === 1) tRows[a++] = r;
    else cRows[b++] = r;
  }
  const packed = packRows(
    data.features.map((f) => f.bins),
    data.n,
  );
  const bases: { params: GbmParams; model: GbmModel; offset: Float64Array }[] = [];
  return configs.map((_, i) => {
    const opt = options[i];
    const seed = seeds[i];
    let base: GbmModel | null = null;
    let offset: Float64Array | undefined;
    if (opt.base) {
      const params = opt.base;
      const shared = deterministic(params) ? bases.find((b) => sameParams(b.params, params)) : undefined;
      if (shared) {
        base = shared.model;
        offset = shared.offset;
      } else {
        offset = new Float64Array(data.n);
        base = fitGbmClassifier(data, rows, data.outcome, params, deriveSeed(seed, 2), { trainScores: offset, packed });
        if (deterministic(params)) bases.push({ params, model: base, offset });
      }
    }
    const treated = fitGbmClassifier(data, tRows, data.outcome, opt.arm, deriveSeed(seed, 1), { offset, packed });
    const control = fitGbmClassifier(data, cRows, data.outcome, opt.arm, deriveSeed(seed, 0), { offset, packed });
    return new TLearnerModel(base, treated, control, refinements);
  });
}

/** A GBM without row or feature subsampling does not use its seed. */
function deterministic(p: GbmParams): boolean {
  return (p.subsample ?? 1) >= 1 && (p.colsample ?? 1) >= 1;
}

function sameParams(a: GbmParams, b: GbmParams): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]) as Set<keyof GbmParams>;
  for (const k of keys) if (a[k] !== b[k]) return false;
  return true;
}
