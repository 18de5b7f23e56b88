import t from 'tap';
import { Rng } from '../graphs/random';
import { initParams, paramLayout, paramView, type ModelConfig } from '../model/params';
import { messagesPerEdge, oneHotRows, paramTensors, plainGraphEmbed, plainGruCell } from '../model/reference';
import { arena } from '../model/wasm';
import { maxRelDiff, testBackend, tf } from './helpers';

/**
 * Every SIMD kernel of model/assembly against a plain form: the products against plain loops,
 * the module kernels (GRU, message input, gated graph sum) with their backward passes against
 * reference.ts's tfjs equations and tfjs's gradients.
 */

const rng = new Rng(17);
const randn = (count: number): Float32Array => Float32Array.from({ length: count }, () => rng.normal());

/** Places arrays in the arena and returns their byte offsets; `out` reads floats back. */
function place(arrays: Array<Float32Array | Int32Array | number>): { at: number[]; out: (at: number, count: number) => Float32Array } {
  const a = arena();
  a.reset();
  const at = arrays.map((x) => (typeof x === 'number' ? a.f32(x) : a.f32(x.length)));
  a.commit('the test arrays');
  arrays.forEach((x, i) => (typeof x === 'number' ? a.zero(at[i], x) : a.put(at[i], x)));
  return { at, out: (p, count) => a.F.slice(p >>> 2, (p >>> 2) + count) };
}

/** C = A·B + bias (or + C0) in plain loops, A (M x K), B (K x N). */
function plainMatmul(A: Float32Array, B: Float32Array, M: number, K: number, N: number, init: (i: number, j: number) => number): Float32Array {
  const C = new Float32Array(M * N);
  for (let i = 0; i < M; i++)
    for (let j = 0; j < N; j++) {
      let s = init(i, j);
      for (let k = 0; k < K; k++) s += A[i * K + k] * B[k * N + j];
      C[i * N + j] = s;
    }
  return C;
}

t.before(testBackend);

t.test('products and row kernels equal plain loops', async (t) => {
  const k = arena().k;
  // N = 37 covers the 16-column blocks, the 4-column blocks and the scalar tail
  const [M, K, N] = [9, 7, 37];
  const A = randn(M * K);
  const B = randn(K * N);
  const bias = randn(N);
  const C0 = randn(M * N);
  const { at, out } = place([A, B, bias, C0, M * N]);
  k.matmul(at[0], at[1], 0, at[4], M, K, N, 0);
  t.ok(maxRelDiff(out(at[4], M * N), plainMatmul(A, B, M, K, N, () => 0), 1) < 1e-5, 'matmul');
  k.matmul(at[0], at[1], at[2], at[4], M, K, N, 0);
  t.ok(maxRelDiff(out(at[4], M * N), plainMatmul(A, B, M, K, N, (_, j) => bias[j]), 1) < 1e-5, 'matmul + bias');
  k.matmul(at[0], at[1], 0, at[3], M, K, N, 1);
  t.ok(maxRelDiff(out(at[3], M * N), plainMatmul(A, B, M, K, N, (i, j) => C0[i * N + j]), 1) < 1e-5, 'matmul accumulating');

  // C (K x N) += Aᵀ·D with D (M x N)
  const D = randn(M * N);
  const E = randn(K * N);
  const p2 = place([A, D, E, N]);
  k.matmulAtB(p2.at[0], p2.at[1], p2.at[2], M, K, N);
  const At = new Float32Array(K * M);
  for (let i = 0; i < M; i++) for (let j = 0; j < K; j++) At[j * M + i] = A[i * K + j];
  t.ok(maxRelDiff(p2.out(p2.at[2], K * N), plainMatmul(At, D, K, M, N, (i, j) => E[i * N + j]), 1) < 1e-5, 'matmulAtB');
  k.colSum(p2.at[1], M, N, p2.at[3]);
  const sums = Array.from({ length: N }, (_, j) => Array.from({ length: M }, (_, i) => D[i * N + j]).reduce((s, x) => s + x, 0));
  t.ok(maxRelDiff(p2.out(p2.at[3], N), sums, 1) < 1e-5, 'colSum');

  // gathers and their adjoints: <gather(x), y> = <x, scatter(y)>
  const W = 6;
  const x = randn(5 * W);
  const x2 = randn(3 * W);
  const x3 = randn(2 * W);
  const idx = Int32Array.from([4, 0, 2, 2, 1]);
  const idx3 = Int32Array.from([9, 0, 5, 7, 7, 3]);
  const p3 = place([x, x2, x3, idx, idx3, idx.length * W, idx3.length * W, 5 * W, 3 * W, 2 * W]);
  const [xa, x2a, x3a, ia, i3a, g1, g3, d1, d2, d3] = p3.at;
  k.gatherRows(xa, ia, idx.length, W, g1);
  t.same(Array.from(p3.out(g1, idx.length * W)), Array.from(idx).flatMap((r) => Array.from(x.subarray(r * W, r * W + W))), 'gatherRows');
  const cat = [...x, ...x2, ...x3];
  k.gatherRows3(xa, 5, x2a, 3, x3a, i3a, idx3.length, W, g3);
  t.same(Array.from(p3.out(g3, idx3.length * W)), Array.from(idx3).flatMap((r) => cat.slice(r * W, r * W + W)), 'gatherRows3 reads concat(A, B, C)');
  k.scatterAddRows(g1, ia, idx.length, W, d1);
  const want1 = new Float32Array(5 * W);
  idx.forEach((r, i) => {
    for (let c = 0; c < W; c++) want1[r * W + c] += x[idx[i] * W + c];
  });
  t.ok(maxRelDiff(p3.out(d1, 5 * W), want1) < 1e-6, 'scatterAddRows is the adjoint of gatherRows');
  k.scatterAddRows3(g3, i3a, idx3.length, W, d1, 5, d2, 3, d3);
  const want3 = new Float32Array(10 * W);
  want3.set(want1);
  idx3.forEach((r) => {
    for (let c = 0; c < W; c++) want3[r * W + c] += cat[r * W + c];
  });
  const got3 = [...p3.out(d1, 5 * W), ...p3.out(d2, 3 * W), ...p3.out(d3, 2 * W)];
  t.ok(maxRelDiff(got3, want3) < 1e-6, 'scatterAddRows3 is the adjoint of gatherRows3');
});

/** Value and gradients of sum(f(xs) * r), r fixed and random, so every output entry matters. */
function valueAndGrads(f: (...xs: tf.Tensor[]) => tf.Tensor, xs: tf.Tensor[], r: Float32Array): Float32Array[] {
  return tf.tidy(() => {
    const rt = tf.tensor(r, f(...xs).shape);
    const { grads } = tf.valueAndGrads((...ys: tf.Tensor[]) => tf.sum(tf.mul(f(...ys), rt)) as tf.Scalar)(xs);
    return [f(...xs).dataSync() as Float32Array, ...grads.map((g) => g.dataSync() as Float32Array)];
  }) as unknown as Float32Array[];
}

t.test('module kernels and their backward passes equal the reference equations and tfjs gradients', async (t) => {
  // three edge types: the messages' x_uv is a one-hot of 3 columns
  const cfg: ModelConfig = { nodeSize: 5, propRounds: 2, edgeTypes: ['a', 'b', 'c'] };
  const B = 3;
  const n = cfg.nodeSize;
  const layout = paramLayout(cfg);
  const flat = initParams(layout, 5);
  const p = paramTensors(layout, flat);
  const P = (name: string): Float32Array => paramView(layout, flat, name);
  const k = arena().k;
  const rows = 7;
  const h = randn(rows * n);

  // GRU: gi = a·W_i + b_i, gh = h·W_h + b_h, gates; backward to dh and da
  const a = randn(rows * 2 * n);
  const r = randn(rows * n);
  const T = (x: Float32Array, R: number, C: number): Float32Array => Float32Array.from({ length: R * C }, (_, i) => x[(i % R) * C + Math.floor(i / R)]);
  const wi = P('prop.1.gru.wi');
  const wh = P('prop.1.gru.wh');
  const g = place([a, h, wi, wh, P('prop.1.gru.bi'), P('prop.1.gru.bh'), T(wi, 2 * n, 3 * n), T(wh, n, 3 * n), r, rows * 3 * n, rows * 3 * n, rows * n, rows * 4 * n, rows * 3 * n, rows * 3 * n, rows * n, rows * 2 * n]);
  const [aa, ha, wia, wha, bia, bha, wiT, whT, ra, gi, gh, outA, saved, dgi, dgh, dh, da] = g.at;
  k.matmul(aa, wia, bia, gi, rows, 2 * n, 3 * n, 0);
  k.matmul(ha, wha, bha, gh, rows, n, 3 * n, 0);
  k.gruForward(gi, gh, ha, rows, n, outA, saved);
  k.gruBackward(ra, ha, saved, rows, n, dgi, dgh, dh);
  k.matmul(dgh, whT, 0, dh, rows, 3 * n, n, 1);
  k.matmul(dgi, wiT, 0, da, rows, 3 * n, 2 * n, 0);
  const gru = valueAndGrads((hh, ax) => plainGruCell(p, 1, ax as tf.Tensor2D, hh as tf.Tensor2D), [tf.tensor2d(h, [rows, n]), tf.tensor2d(a, [rows, 2 * n])], r);
  t.ok(maxRelDiff(g.out(outA, rows * n), gru[0], 1e-2) < 1e-5, 'GRU value');
  t.ok(maxRelDiff(g.out(dh, rows * n), gru[1], 1e-2) < 1e-5, 'GRU dh');
  t.ok(maxRelDiff(g.out(da, rows * 2 * n), gru[2], 1e-2) < 1e-5, 'GRU da');

  // messages: Z·[W_t ; b_t] = sum over edges u -> v of W_t [h_v ; h_u ; x_uv] + b_t; backward to dh
  const und: Array<[number, number]> = [[0, 1], [1, 2], [2, 3], [4, 5], [5, 6], [6, 4]];
  const types = [2, 0, 1, 1, 2, 2];
  const src = Int32Array.from(und.flatMap(([x, y]) => [x, y]));
  const dst = Int32Array.from(und.flatMap(([x, y]) => [y, x]));
  const deg = new Float32Array(rows);
  const counts = new Float32Array(rows * B);
  dst.forEach((d, e) => {
    deg[d]++;
    counts[d * B + types[e >> 1]]++;
  });
  const w = 2 * n + B + 1;
  const msg = new Float32Array(w * 2 * n);
  msg.set(P('prop.0.msg.w'));
  msg.set(P('prop.0.msg.b'), (w - 1) * 2 * n);
  const rm = randn(rows * 2 * n);
  const m = place([h, deg, counts, src, dst, msg, T(msg, w, 2 * n), rm, rows * w, rows * 2 * n, rows * w, rows * n]);
  const [hm, degA, countsA, srcA, dstA, msgA, msgT, rmA, z, av, dz, dhm] = m.at;
  k.messageInput(hm, degA, countsA, srcA, dstA, src.length, rows, n, B, z);
  k.matmul(z, msgA, 0, av, rows, w, 2 * n, 0);
  k.matmul(rmA, msgT, 0, dz, rows, 2 * n, w, 0);
  k.messageInputBackward(dz, degA, srcA, dstA, src.length, rows, n, B, dhm);
  const x = oneHotRows(types.flatMap((b) => [b, b]), B);
  const perEdge = valueAndGrads((hh) => messagesPerEdge(p, 0, hh as tf.Tensor2D, tf.tensor1d(src, 'int32'), tf.tensor1d(dst, 'int32'), x), [tf.tensor2d(h, [rows, n])], rm);
  t.ok(maxRelDiff(m.out(av, rows * 2 * n), perEdge[0], 1e-2) < 1e-5, 'message input · [W ; b] = per-edge messages, value');
  t.ok(maxRelDiff(m.out(dhm, rows * n), perEdge[1], 1e-2) < 1e-5, 'message input backward = per-edge gradient');

  // GraphEmbed: y = h·[w_gate | W_proj] + b, gated sum per graph (rows 0-3, 4-6, a third graph empty)
  const embedW = new Float32Array(n * (2 * n + 1));
  for (let i = 0; i < n; i++) {
    embedW[i * (2 * n + 1)] = P('embed.gate.w')[i];
    embedW.set(P('embed.proj.w').subarray(i * 2 * n, (i + 1) * 2 * n), i * (2 * n + 1) + 1);
  }
  const embedB = Float32Array.from([P('embed.gate.b')[0], ...P('embed.proj.b')]);
  const graphOfRow = Int32Array.from([0, 0, 0, 0, 1, 1, 1]);
  const re = randn(3 * 2 * n);
  const e = place([h, embedW, embedB, T(embedW, n, 2 * n + 1), graphOfRow, re, rows * (2 * n + 1), rows, 3 * 2 * n, rows * (2 * n + 1), rows * n]);
  const [he, ew, eb, ewT, gor, reA, y, gate, hG, dy, dhe] = e.at;
  k.matmul(he, ew, eb, y, rows, n, 2 * n + 1, 0);
  k.gatedSum(y, gor, rows, 2 * n, 3, gate, hG);
  k.gatedSumBackward(reA, y, gor, gate, rows, 2 * n, dy);
  k.matmul(dy, ewT, 0, dhe, rows, 2 * n + 1, n, 0);
  const plainEmbed = valueAndGrads(
    (hh) => tf.concat([plainGraphEmbed(p, (hh as tf.Tensor2D).slice([0, 0], [4, n])), plainGraphEmbed(p, (hh as tf.Tensor2D).slice([4, 0], [3, n])), tf.zeros([1, 2 * n])]),
    [tf.tensor2d(h, [rows, n])],
    re,
  );
  t.ok(maxRelDiff(e.out(hG, 3 * 2 * n), plainEmbed[0], 1e-2) < 1e-5, 'GraphEmbed value (third graph empty: zero)');
  t.ok(maxRelDiff(e.out(dhe, rows * n), plainEmbed[1], 1e-2) < 1e-5, 'GraphEmbed dh');
});
