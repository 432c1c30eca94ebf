// Small synthetic binned datasets for the tree/forest tests (not a test file itself).
import type { BinnedDataset, BinnedFeature } from '../../src/ml/types.js';
import { createRng } from '../../src/ml/rng.js';

export interface SynthOptions {
  n: number;
  seed: number;
  /** numeric features: number of bins (including missing bin 0) and share of missing values */
  numeric?: { nBins: number; missing: number }[];
  /** categorical features: number of bins (including missing bin 0) and share of missing */
  categorical?: { nBins: number; missing: number }[];
  /** true uplift as a function of the bins of a row (features in order numeric..., categorical...) */
  tau?: (bins: number[]) => number;
  base?: number;
}

export function synth(o: SynthOptions): BinnedDataset {
  const rng = createRng(o.seed);
  const specs = [
    ...(o.numeric ?? []).map((s) => ({ ...s, kind: 'numeric' as const })),
    ...(o.categorical ?? []).map((s) => ({ ...s, kind: 'categorical' as const })),
  ];
  const features: BinnedFeature[] = specs.map((s, i) => {
    const f: BinnedFeature = { name: `${s.kind}_${i}`, kind: s.kind, nBins: s.nBins, bins: new Uint8Array(o.n) };
    if (s.kind === 'numeric') f.upper = Float64Array.from({ length: s.nBins - 2 }, (_, k) => k + 1);
    else f.labels = Array.from({ length: s.nBins }, (_, k) => (k === 0 ? '(missing)' : `L${k}`));
    return f;
  });
  const treatment = new Uint8Array(o.n);
  const outcome = new Uint8Array(o.n);
  const row: number[] = new Array(specs.length).fill(0);
  for (let i = 0; i < o.n; i++) {
    specs.forEach((s, j) => {
      const b = rng.next() < s.missing ? 0 : 1 + rng.int(s.nBins - 1);
      features[j].bins[i] = b;
      row[j] = b;
    });
    treatment[i] = rng.next() < 0.5 ? 1 : 0;
    const p = (o.base ?? 0.3) + (treatment[i] ? (o.tau ? o.tau(row) : 0) : 0);
    outcome[i] = rng.next() < p ? 1 : 0;
  }
  return { n: o.n, treatment, outcome, features, report: { droppedConstant: [], pooled: [] } };
}

export function allRows(n: number): Uint32Array {
  return Uint32Array.from({ length: n }, (_, i) => i);
}
