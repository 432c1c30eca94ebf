import t from 'tap';
import { createRng, deriveSeed } from '../../src/ml/rng.js';

t.test('createRng is deterministic and uniform-ish', async (t) => {
  const a = createRng(7), b = createRng(7);
  let sum = 0;
  for (let i = 0; i < 10000; i++) {
    const x = a.next();
    t.equal(x, b.next());
    if (x < 0 || x >= 1) t.fail(`out of range: ${x}`);
    sum += x;
  }
  t.ok(Math.abs(sum / 10000 - 0.5) < 0.02, 'mean near 0.5');
  const r = createRng(3);
  for (let i = 0; i < 1000; i++) {
    const k = r.int(5);
    if (!Number.isInteger(k) || k < 0 || k >= 5) t.fail(`int out of range: ${k}`);
  }
});

t.test('deriveSeed: no collisions between nearby seeds and keys', async (t) => {
  const seen = new Map<number, string>();
  let collisions = 0;
  for (let s = 0; s < 64; s++) {
    for (let k = 0; k < 64; k++) {
      for (const keys of [[k], [k, 0], [0, k]]) {
        const h = deriveSeed(s, ...keys);
        const label = `${s}:${keys.join(',')}`;
        if (seen.has(h) && seen.get(h) !== label) collisions++;
        seen.set(h, label);
      }
    }
  }
  t.equal(collisions, 0, 'distinct inputs give distinct seeds');
  t.not(deriveSeed(42, 1), deriveSeed(43, 0), '(42,1) and (43,0) differ');
  t.equal(deriveSeed(5, 1, 2), deriveSeed(5, 1, 2), 'pure');
  t.not(deriveSeed(5, 1, 2), deriveSeed(5, 2, 1), 'order matters');
});
