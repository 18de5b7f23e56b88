import t from 'tap';
import { adamState } from '../model/adam';
import { configFromJson } from '../pipeline/config';
import { aggregate, learningRate } from '../pipeline/optimizer';

// lr 0.1 falling along a cosine to half of it over a 2-step run; clip at global norm 0.5;
// Adam's defaults beta1 0.9, beta2 0.999, eps 1e-8.
const config = configFromJson({ train: { lr: 0.1, lrFinalFraction: 0.5, clipNorm: 0.5 } }, 'optimizer test');

/** Whether `got` is within 2e-6 relative of `want` everywhere (float32 storage rounds at ~6e-8), and a message saying so. */
const near = (got: ArrayLike<number>, want: number[], what: string): [boolean, string] => {
  const worst = Math.max(...want.map((w, i) => Math.abs(got[i] - w) / Math.abs(w)));
  return [worst < 2e-6, `${what}: [${Array.from(got).join(', ')}] vs [${want.join(', ')}] (max relative diff ${worst.toExponential(1)})`];
};

t.test('two optimizer steps on a 3-vector match the values worked out by hand', async (t) => {
  const params = Float32Array.from([0.5, -1, 2]);
  const adam = adamState(3);

  // Step 0: shards of 2 and 1 graphs. Gradient = ([0.6, -1.2, 0] + [0.3, 0.3, 0.9]) / 3 graphs
  // = [0.3, -0.3, 0.3], norm 0.3 * sqrt(3) = 0.519615 > 0.5, so scaled by 0.5 / (0.519615 + 1e-6)
  // to +-0.288675. Loss = (1.5 + 2.5 + 2) / 3 = 2. lr(0) = 0.1 (cos 0 = 1). A first Adam step has
  // m^ = g, v^ = g^2, so it moves every coordinate by lr * sign(g) (less eps / |g|, ~3e-9):
  // params [0.4, -0.9, 1.9].
  const s0 = aggregate(config, params, adam, 0, 2, [
    { gradSum: Float32Array.from([0.6, -1.2, 0]), logLik: Float32Array.from([-1.5, -2.5]), gradExponent: 0 },
    { gradSum: Float32Array.from([0.3, 0.3, 0.9]), logLik: Float32Array.from([-2]), gradExponent: 0 },
  ]);
  t.equal(s0.graphs, 3);
  t.ok(Math.abs(s0.loss - 2) < 1e-6, `loss ${s0.loss}`);
  t.ok(Math.abs(s0.gradNorm - 0.519615242) < 1e-6, `gradient norm before clipping ${s0.gradNorm}`);
  t.ok(...near(params, [0.4, -0.9, 1.9], 'params after step 0'));
  t.ok(...near(adam.m, [0.0288674579, -0.0288674579, 0.0288674579], 'm = 0.1 * clipped g'));
  t.ok(...near(adam.v, [8.333301258e-5, 8.333301258e-5, 8.333301258e-5], 'v = 0.001 * clipped g^2'));
  t.equal(adam.t, 1);

  // Step 1: gradient ([0.2, 0, -0.4] + [0.1, 0, 0.1]) / 3 = [0.1, 0, -0.1], norm 0.1414 (no clip);
  // loss 1. lr(1) = 0.1 * (0.5 + 0.5 * 0.5 * (1 + cos(pi / 2))) = 0.075.
  // m = 0.9 m + 0.1 g = [0.0359807, -0.0259807, 0.0159807]; v = 0.999 v + 0.001 g^2
  // = [9.324968e-5, 8.324968e-5, 9.324968e-5]; bias corrections 1 - 0.9^2 = 0.19 and
  // 1 - 0.999^2 = 0.001999; params -= 0.075 * (m / 0.19) / (sqrt(v / 0.001999) + 1e-8)
  // = [0.3342403, -0.8497456, 1.8707930] (the middle coordinate moves on momentum alone).
  const s1 = aggregate(config, params, adam, 1, 2, [
    { gradSum: Float32Array.from([0.2, 0, -0.4]), logLik: Float32Array.from([-1, -1]), gradExponent: 0 },
    { gradSum: Float32Array.from([0.1, 0, 0.1]), logLik: Float32Array.from([-1]), gradExponent: 0 },
  ]);
  t.ok(Math.abs(s1.loss - 1) < 1e-6, `loss ${s1.loss}`);
  t.ok(Math.abs(s1.gradNorm - 0.1414213562) < 1e-6, `gradient norm ${s1.gradNorm}`);
  t.ok(...near(adam.m, [0.0359807121, -0.0259807121, 0.0159807121], 'm after step 1'));
  t.ok(...near(adam.v, [9.324967957e-5, 8.324967957e-5, 9.324967957e-5], 'v after step 1'));
  t.ok(...near(params, [0.3342402586, -0.8497456369, 1.8707930342], 'params after step 1'));
});

t.test('the learning rate falls along a cosine from lr to lr * lrFinalFraction', async (t) => {
  // lr 0.1 to 0.01 over 4 steps: 0.1 * (0.1 + 0.9 * 0.5 * (1 + cos(pi * k / 4)))
  const want = [0.1, 0.0868198052, 0.055, 0.0231801948, 0.01];
  want.forEach((w, k) => t.ok(Math.abs(learningRate({ lr: 0.1, lrFinalFraction: 0.1 }, k, 4) - w) < 1e-10, `step ${k}: ${w}`));
  t.equal(learningRate({ lr: 0.1, lrFinalFraction: 1 }, 3, 4), 0.1, 'fraction 1: constant');
});

t.test('a non-finite gradient is refused before any update', async (t) => {
  const params = Float32Array.from([0.5, -1, 2]);
  const adam = adamState(3);
  t.throws(() => aggregate(config, params, adam, 7, 10, [{ gradSum: Float32Array.from([0.1, Infinity, 0]), logLik: Float32Array.from([-1]), gradExponent: 0 }]), {
    name: 'TrainingError',
    message: 'step 7: the gradient has NaN or Inf entries; parameters were not updated',
  });
  t.same(Array.from(params), [0.5, -1, 2], 'parameters unchanged');
  t.equal(adam.t, 0, 'Adam state unchanged');
});

t.test('clipNorm 0 means no clipping, and eps sits outside the square root, after bias correction (PyTorch\'s Adam)', async (t) => {
  // One graph, gradient [3, 4] (norm 5: any positive clip would scale it), lr 0.1, eps 0.1 (large,
  // so where it sits shows). A first step has m^ = g, v^ = g^2, so PyTorch moves each coordinate
  // by lr * g / (|g| + eps): 0.1 * 3 / 3.1 and 0.1 * 4 / 4.1. Elsewhere it would move by
  // lr * g / sqrt(g^2 + eps) = [0.0994, 0.0997] (eps under the root), or, with eps added before
  // the bias correction (lr * sqrt(1 - beta2) / (1 - beta1) * m / (sqrt(v) + eps)), [0.0049, 0.0053].
  const unclipped = configFromJson({ train: { lr: 0.1, lrFinalFraction: 1, clipNorm: 0, eps: 0.1 } }, 'no-clip test');
  const params = Float32Array.from([0, 0]);
  const adam = adamState(2);
  const s = aggregate(unclipped, params, adam, 0, 1, [{ gradSum: Float32Array.from([3, 4]), logLik: Float32Array.from([-1]), gradExponent: 0 }]);
  t.ok(Math.abs(s.gradNorm - 5) < 1e-6, `gradient norm ${s.gradNorm}`);
  t.ok(...near(adam.m, [0.3, 0.4], 'm = 0.1 * g, unclipped'));
  t.ok(...near(adam.v, [0.009, 0.016], 'v = 0.001 * g^2, unclipped'));
  t.ok(...near(params, [-0.1 * (3 / 3.1), -0.1 * (4 / 4.1)], 'params after the step'));
});
