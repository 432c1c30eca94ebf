import t from 'tap';
import { klDivergence, euclidean, chiSquared, normalization, shrunkRate, divergenceFor } from '../../src/ml/tree/criteria/index.js';

const close = (t: Tap.Test, a: number, b: number, msg: string, tol = 1e-6) => t.ok(Math.abs(a - b) < tol, `${msg}: ${a} vs ${b}`);
declare namespace Tap { type Test = Parameters<Parameters<typeof t.test>[1]>[0]; }

t.test('KL divergence, hand-computed (causalml kl_divergence conventions)', async (t) => {
  // 0.3 ln(0.3/0.2) + 0.7 ln(0.7/0.8)
  close(t, klDivergence(0.3, 0.2), 0.0281677, 'kl(0.3, 0.2)');
  close(t, klDivergence(0, 0.2), 0.2231436, 'kl(0, 0.2) = -ln 0.8');
  close(t, klDivergence(1, 0.2), 1.6094379, 'kl(1, 0.2) = -ln 0.2');
  t.equal(klDivergence(0.5, 0), 0, 'q = 0 gives 0');
  close(t, klDivergence(0.5, 1), 0.5 * Math.log(0.5 / (1 - 1e-6)) + 0.5 * Math.log(0.5 / 1e-6), 'q clipped to 1 - 1e-6', 1e-9);
  t.equal(klDivergence(0.4, 0.4), 0);
});

t.test('Euclidean and chi-squared, hand-computed', async (t) => {
  close(t, euclidean(0.3, 0.2), 0.02, 'ED = 2 (0.1)^2');
  close(t, euclidean(0.2, 0.3), 0.02, 'ED symmetric');
  close(t, chiSquared(0.3, 0.2), 0.0625, 'Chi = 0.01/0.2 + 0.01/0.8');
  close(t, chiSquared(0.1, 0), 0.01 / 1e-6 + 0.01, 'Chi with p_c = 0 uses 1e-6', 1e-6);
  t.equal(divergenceFor('KL'), klDivergence);
  t.equal(divergenceFor('ED'), euclidean);
  t.equal(divergenceFor('Chi'), chiSquared);
});

t.test('normalization I(A), hand-computed and symmetric', async (t) => {
  // balanced split, same shares: KL = 0, H(.5) = ln 2 -> I = ln 2 + 1/2
  close(t, normalization(100, 100, 50, 50), Math.LN2 + 0.5, 'balanced');
  // nT=100, nC=300, left 20 treated / 150 control:
  // H(0.25) * KL(0.2 || 0.5) + 0.25 H(0.2) + 0.75 H(0.5) + 0.5
  // = 0.5623351 * 0.1927448 + 0.25 * 0.5004024 + 0.75 * 0.6931472 + 0.5 = 1.2533476
  close(t, normalization(100, 300, 20, 150), 1.2533476, 'unbalanced', 1e-6);
  for (const [a, b, c, d] of [[100, 300, 20, 150], [37, 50, 3, 49], [10, 10, 0, 10]]) {
    close(t, normalization(a, b, c, d), normalization(a, b, a - c, b - d), `mirror ${a},${b},${c},${d}`, 1e-9);
  }
  t.ok(normalization(100, 100, 100, 0) > normalization(100, 100, 50, 50), 'treatment-imbalanced split penalised');
});

t.test('shrunk rate toward the parent (causalml tree_node_summary)', async (t) => {
  close(t, shrunkRate(30, 100, 0.2, 100, 10), (30 + 20) / 200, 'n > mst');
  t.equal(shrunkRate(3, 10, 0.2, 100, 10), 0.2, 'n <= mst takes the parent rate');
  t.equal(shrunkRate(3, 10, 0.2, 0, 0), 0.3, 'no shrinkage');
});
