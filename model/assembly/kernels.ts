// The arithmetic of the DGMG engine (model/engine.ts), compiled to WebAssembly with SIMD by
// `npm run build` (AssemblyScript). Every pointer is a byte offset into this module's memory, every
// matrix is row-major float32, every index array int32. The engine owns the memory layout; these
// kernels only read and write where they are told, and allocate nothing.

// ---- dense products -------------------------------------------------------------------------

// C[M x N] = A[M x K] · B[K x N] + (acc ? C : bias), bias a row of N (0: none).
// Two rows of C at a time, 16 columns at a time, in eight f32x4 accumulators: each load of B's
// row serves two rows of A (B streams from L1). Then single rows, 4 columns, and a scalar tail,
// so any M and N work.
export function matmul(a: usize, b: usize, bias: usize, c: usize, M: i32, K: i32, N: i32, acc: i32): void {
  const rowB = (<usize>N) << 2;
  const rowA = (<usize>K) << 2;
  const rowC = (<usize>N) << 2;
  let i = 0;
  for (; i + 2 <= M; i += 2) {
    const ai = a + (<usize>i) * rowA;
    const ci = c + (<usize>i) * rowC;
    let j = 0;
    for (; j + 16 <= N; j += 16) {
      const cj = ci + ((<usize>j) << 2);
      const dj = cj + rowC;
      let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
      let d0 = f32x4.splat(0), d1 = f32x4.splat(0), d2 = f32x4.splat(0), d3 = f32x4.splat(0);
      if (acc) {
        c0 = v128.load(cj); c1 = v128.load(cj, 16); c2 = v128.load(cj, 32); c3 = v128.load(cj, 48);
        d0 = v128.load(dj); d1 = v128.load(dj, 16); d2 = v128.load(dj, 32); d3 = v128.load(dj, 48);
      } else if (bias) {
        const bj = bias + ((<usize>j) << 2);
        c0 = v128.load(bj); c1 = v128.load(bj, 16); c2 = v128.load(bj, 32); c3 = v128.load(bj, 48);
        d0 = c0; d1 = c1; d2 = c2; d3 = c3;
      }
      let bp = b + ((<usize>j) << 2);
      let ap = ai;
      for (let k = 0; k < K; k++) {
        const x = v128.load32_splat(ap);
        const y = v128.load32_splat(ap + rowA);
        const b0 = v128.load(bp), b1 = v128.load(bp, 16), b2 = v128.load(bp, 32), b3 = v128.load(bp, 48);
        c0 = f32x4.add(c0, f32x4.mul(x, b0));
        c1 = f32x4.add(c1, f32x4.mul(x, b1));
        c2 = f32x4.add(c2, f32x4.mul(x, b2));
        c3 = f32x4.add(c3, f32x4.mul(x, b3));
        d0 = f32x4.add(d0, f32x4.mul(y, b0));
        d1 = f32x4.add(d1, f32x4.mul(y, b1));
        d2 = f32x4.add(d2, f32x4.mul(y, b2));
        d3 = f32x4.add(d3, f32x4.mul(y, b3));
        bp += rowB;
        ap += 4;
      }
      v128.store(cj, c0); v128.store(cj, c1, 16); v128.store(cj, c2, 32); v128.store(cj, c3, 48);
      v128.store(dj, d0); v128.store(dj, d1, 16); v128.store(dj, d2, 32); v128.store(dj, d3, 48);
    }
    if (j < N) {
      matmulColumns(ai, b, bias, ci, K, N, acc, j);
      matmulColumns(ai + rowA, b, bias, ci + rowC, K, N, acc, j);
    }
  }
  if (i < M) matmulColumns(a + (<usize>i) * rowA, b, bias, c + (<usize>i) * rowC, K, N, acc, 0);
}

// One row of matmul's C from column j0 on: 4 columns at a time, then one at a time.
function matmulColumns(ai: usize, b: usize, bias: usize, ci: usize, K: i32, N: i32, acc: i32, j0: i32): void {
  const rowB = (<usize>N) << 2;
  let j = j0;
  for (; j + 4 <= N; j += 4) {
    const cj = ci + ((<usize>j) << 2);
    let c0 = f32x4.splat(0);
    if (acc) c0 = v128.load(cj);
    else if (bias) c0 = v128.load(bias + ((<usize>j) << 2));
    let bp = b + ((<usize>j) << 2);
    for (let k = 0; k < K; k++) {
      c0 = f32x4.add(c0, f32x4.mul(v128.load32_splat(ai + ((<usize>k) << 2)), v128.load(bp)));
      bp += rowB;
    }
    v128.store(cj, c0);
  }
  for (; j < N; j++) {
    const cj = ci + ((<usize>j) << 2);
    let s: f32 = acc ? load<f32>(cj) : bias ? load<f32>(bias + ((<usize>j) << 2)) : 0;
    let bp = b + ((<usize>j) << 2);
    for (let k = 0; k < K; k++) {
      s += load<f32>(ai + ((<usize>k) << 2)) * load<f32>(bp);
      bp += rowB;
    }
    store<f32>(cj, s);
  }
}

// C[K x N] += A[M x K]ᵀ · B[M x N]: the weight gradient of a product. Two rows of C (k, k+1)
// stay in eight accumulators while the M rows stream past: each load of B's row serves both, and
// A[i, k], A[i, k+1] are neighbours. Then a single row, 4 columns, and a scalar tail.
export function matmulAtB(a: usize, b: usize, c: usize, M: i32, K: i32, N: i32): void {
  const rowA = (<usize>K) << 2;
  const rowB = (<usize>N) << 2;
  let k = 0;
  for (; k + 2 <= K; k += 2) {
    const ck = c + ((<usize>(k * N)) << 2);
    let j = 0;
    for (; j + 16 <= N; j += 16) {
      const cj = ck + ((<usize>j) << 2);
      const dj = cj + rowB;
      let c0 = v128.load(cj), c1 = v128.load(cj, 16), c2 = v128.load(cj, 32), c3 = v128.load(cj, 48);
      let d0 = v128.load(dj), d1 = v128.load(dj, 16), d2 = v128.load(dj, 32), d3 = v128.load(dj, 48);
      let ap = a + ((<usize>k) << 2);
      let bp = b + ((<usize>j) << 2);
      for (let i = 0; i < M; i++) {
        const x = v128.load32_splat(ap);
        const y = v128.load32_splat(ap, 4);
        const b0 = v128.load(bp), b1 = v128.load(bp, 16), b2 = v128.load(bp, 32), b3 = v128.load(bp, 48);
        c0 = f32x4.add(c0, f32x4.mul(x, b0));
        c1 = f32x4.add(c1, f32x4.mul(x, b1));
        c2 = f32x4.add(c2, f32x4.mul(x, b2));
        c3 = f32x4.add(c3, f32x4.mul(x, b3));
        d0 = f32x4.add(d0, f32x4.mul(y, b0));
        d1 = f32x4.add(d1, f32x4.mul(y, b1));
        d2 = f32x4.add(d2, f32x4.mul(y, b2));
        d3 = f32x4.add(d3, f32x4.mul(y, b3));
        ap += rowA;
        bp += rowB;
      }
      v128.store(cj, c0); v128.store(cj, c1, 16); v128.store(cj, c2, 32); v128.store(cj, c3, 48);
      v128.store(dj, d0); v128.store(dj, d1, 16); v128.store(dj, d2, 32); v128.store(dj, d3, 48);
    }
    if (j < N) {
      matmulAtBColumns(a, b, c, M, K, N, k, j);
      matmulAtBColumns(a, b, c, M, K, N, k + 1, j);
    }
  }
  if (k < K) matmulAtBColumns(a, b, c, M, K, N, k, 0);
}

// Row k of matmulAtB's C from column j0 on: 4 columns at a time, then one at a time.
function matmulAtBColumns(a: usize, b: usize, c: usize, M: i32, K: i32, N: i32, k: i32, j0: i32): void {
  const rowA = (<usize>K) << 2;
  const rowB = (<usize>N) << 2;
  const ck = c + ((<usize>(k * N)) << 2);
  let j = j0;
  for (; j + 4 <= N; j += 4) {
    const cj = ck + ((<usize>j) << 2);
    let c0 = v128.load(cj);
    let ap = a + ((<usize>k) << 2);
    let bp = b + ((<usize>j) << 2);
    for (let i = 0; i < M; i++) {
      c0 = f32x4.add(c0, f32x4.mul(v128.load32_splat(ap), v128.load(bp)));
      ap += rowA;
      bp += rowB;
    }
    v128.store(cj, c0);
  }
  for (; j < N; j++) {
    const cj = ck + ((<usize>j) << 2);
    let s = load<f32>(cj);
    let ap = a + ((<usize>k) << 2);
    let bp = b + ((<usize>j) << 2);
    for (let i = 0; i < M; i++) {
      s += load<f32>(ap) * load<f32>(bp);
      ap += rowA;
      bp += rowB;
    }
    store<f32>(cj, s);
  }
}

// out[N] += column sums of X[M x N] (a bias gradient).
export function colSum(x: usize, M: i32, N: i32, out: usize): void {
  for (let i = 0; i < M; i++) {
    const xi = x + ((<usize>(i * N)) << 2);
    let j = 0;
    for (; j + 4 <= N; j += 4) {
      const o = out + ((<usize>j) << 2);
      v128.store(o, f32x4.add(v128.load(o), v128.load(xi + ((<usize>j) << 2))));
    }
    for (; j < N; j++) {
      const o = out + ((<usize>j) << 2);
      store<f32>(o, load<f32>(o) + load<f32>(xi + ((<usize>j) << 2)));
    }
  }
}

// The largest |x| over `count` floats (a NaN may be passed over: the optimizer refuses it later).
export function maxAbs(x: usize, count: i32): f32 {
  let m = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= count; i += 4) m = f32x4.pmax(m, f32x4.abs(v128.load(x + ((<usize>i) << 2))));
  let out = max(max(f32x4.extract_lane(m, 0), f32x4.extract_lane(m, 1)), max(f32x4.extract_lane(m, 2), f32x4.extract_lane(m, 3)));
  for (; i < count; i++) out = max(out, abs(load<f32>(x + ((<usize>i) << 2))));
  return out;
}

// x[0..count) *= f (a power of two: exact unless the result leaves the normal range).
export function scale(x: usize, count: i32, f: f32): void {
  const fv = f32x4.splat(f);
  let i = 0;
  for (; i + 4 <= count; i += 4) {
    const o = x + ((<usize>i) << 2);
    v128.store(o, f32x4.mul(v128.load(o), fv));
  }
  for (; i < count; i++) {
    const o = x + ((<usize>i) << 2);
    store<f32>(o, load<f32>(o) * f);
  }
}

// ---- rows by index ---------------------------------------------------------------------------

// out[i] = x[idx[i]], rows of `width` floats.
export function gatherRows(x: usize, idx: usize, count: i32, width: i32, out: usize): void {
  const w = (<usize>width) << 2;
  for (let i = 0; i < count; i++) {
    memory.copy(out + <usize>i * w, x + <usize>load<i32>(idx + ((<usize>i) << 2)) * w, w);
  }
}

// out[i] = row idx[i] of concat(A (na rows), B (nb rows), C): a step's node table assembled from
// the carried rows, the propagated rows and the new nodes without materialising the concat.
export function gatherRows3(a: usize, na: i32, b: usize, nb: i32, c: usize, idx: usize, count: i32, width: i32, out: usize): void {
  const w = (<usize>width) << 2;
  for (let i = 0; i < count; i++) {
    const r = load<i32>(idx + ((<usize>i) << 2));
    const from = r < na ? a + <usize>r * w : r < na + nb ? b + <usize>(r - na) * w : c + <usize>(r - na - nb) * w;
    memory.copy(out + <usize>i * w, from, w);
  }
}

// The adjoint of gatherRows3: each row of dy added to the gradient row it was read from.
export function scatterAddRows3(dy: usize, idx: usize, count: i32, width: i32, da: usize, na: i32, db: usize, nb: i32, dc: usize): void {
  const w = (<usize>width) << 2;
  for (let i = 0; i < count; i++) {
    const r = load<i32>(idx + ((<usize>i) << 2));
    const to = r < na ? da + <usize>r * w : r < na + nb ? db + <usize>(r - na) * w : dc + <usize>(r - na - nb) * w;
    addRow(to, dy + <usize>i * w, width);
  }
}

// dx[idx[i]] += dy[i]: the adjoint of gatherRows.
export function scatterAddRows(dy: usize, idx: usize, count: i32, width: i32, dx: usize): void {
  const w = (<usize>width) << 2;
  for (let i = 0; i < count; i++) addRow(dx + <usize>load<i32>(idx + ((<usize>i) << 2)) * w, dy + <usize>i * w, width);
}

// dst[0..width) += src[0..width).
@inline
function addRow(dst: usize, src: usize, width: i32): void {
  let k = 0;
  for (; k + 4 <= width; k += 4) {
    const o = (<usize>k) << 2;
    v128.store(dst + o, f32x4.add(v128.load(dst + o), v128.load(src + o)));
  }
  for (; k < width; k++) {
    const o = (<usize>k) << 2;
    store<f32>(dst + o, load<f32>(dst + o) + load<f32>(src + o));
  }
}

// ---- GraphProp -------------------------------------------------------------------------------

// Z = [deg_v h_v ; sum_{u->v} h_u ; c_v ; deg_v] for every row v (width 2n+B+1), c_v the counts
// of v's in-edges of each of the B edge types (rows x B), so that Z · [W_t ; b_t] =
// sum_{u->v} W_t [h_v ; h_u ; x_uv] + b_t = a_v (docs/design.md, 'The engine's algebra'; x_uv the one-hot of the edge's type).
export function messageInput(h: usize, deg: usize, counts: usize, src: usize, dst: usize, edges: i32, rows: i32, n: i32, B: i32, z: usize): void {
  const w = 2 * n + B + 1;
  for (let v = 0; v < rows; v++) {
    const d = load<f32>(deg + ((<usize>v) << 2));
    const zv = z + ((<usize>(v * w)) << 2);
    const hv = h + ((<usize>(v * n)) << 2);
    const dv = f32x4.splat(d);
    let k = 0;
    for (; k + 4 <= n; k += 4) v128.store(zv + ((<usize>k) << 2), f32x4.mul(dv, v128.load(hv + ((<usize>k) << 2))));
    for (; k < n; k++) store<f32>(zv + ((<usize>k) << 2), d * load<f32>(hv + ((<usize>k) << 2)));
    memory.fill(zv + ((<usize>n) << 2), 0, (<usize>n) << 2);
    memory.copy(zv + ((<usize>(2 * n)) << 2), counts + ((<usize>(v * B)) << 2), (<usize>B) << 2);
    store<f32>(zv + ((<usize>(2 * n + B)) << 2), d);
  }
  for (let e = 0; e < edges; e++) {
    const u = load<i32>(src + ((<usize>e) << 2));
    const v = load<i32>(dst + ((<usize>e) << 2));
    addRow(z + ((<usize>(v * w + n)) << 2), h + ((<usize>(u * n)) << 2), n);
  }
}

// dh += the adjoint of messageInput applied to dZ (the type counts are constants).
export function messageInputBackward(dz: usize, deg: usize, src: usize, dst: usize, edges: i32, rows: i32, n: i32, B: i32, dh: usize): void {
  const w = 2 * n + B + 1;
  for (let v = 0; v < rows; v++) {
    const d = load<f32>(deg + ((<usize>v) << 2));
    const zv = dz + ((<usize>(v * w)) << 2);
    const hv = dh + ((<usize>(v * n)) << 2);
    for (let k = 0; k < n; k++) {
      const o = (<usize>k) << 2;
      store<f32>(hv + o, load<f32>(hv + o) + d * load<f32>(zv + o));
    }
  }
  for (let e = 0; e < edges; e++) {
    const u = load<i32>(src + ((<usize>e) << 2));
    const v = load<i32>(dst + ((<usize>e) << 2));
    addRow(dh + ((<usize>(u * n)) << 2), dz + ((<usize>(v * w + n)) << 2), n);
  }
}

// ---- float32 transcendentals, four lanes at a time -------------------------------------------
// Cephes' expf and tanhf (the algorithms of musl's scalar ones), accurate to about 2 ulp: the GRU's
// three per-entry transcendentals were most of a sampling step when computed one at a time.

// e^x: x = k ln 2 + r with |r| <= ln2 / 2 (ln 2 split in two parts so k ln 2 is exact), a degree-6
// polynomial for e^r, 2^k put into the exponent bits. Clamped to the normal float range.
@inline
function expv(x: v128): v128 {
  x = f32x4.min(f32x4.max(x, f32x4.splat(-87.3)), f32x4.splat(88.3));
  const k = f32x4.floor(f32x4.add(f32x4.mul(x, f32x4.splat(1.44269504088896341)), f32x4.splat(0.5)));
  let r = f32x4.sub(x, f32x4.mul(k, f32x4.splat(0.693359375)));
  r = f32x4.sub(r, f32x4.mul(k, f32x4.splat(-2.12194440e-4)));
  let y = f32x4.splat(1.9875691500e-4);
  y = f32x4.add(f32x4.mul(y, r), f32x4.splat(1.3981999507e-3));
  y = f32x4.add(f32x4.mul(y, r), f32x4.splat(8.3334519073e-3));
  y = f32x4.add(f32x4.mul(y, r), f32x4.splat(4.1665795894e-2));
  y = f32x4.add(f32x4.mul(y, r), f32x4.splat(1.6666665459e-1));
  y = f32x4.add(f32x4.mul(y, r), f32x4.splat(5.0000001201e-1));
  y = f32x4.add(f32x4.add(f32x4.mul(f32x4.mul(y, r), r), r), f32x4.splat(1));
  const pow2k = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(k), i32x4.splat(127)), 23);
  return f32x4.mul(y, pow2k);
}

@inline
function sigmoidv(x: v128): v128 {
  return f32x4.div(f32x4.splat(1), f32x4.add(f32x4.splat(1), expv(f32x4.neg(x))));
}

// tanh x: an odd polynomial for |x| < 0.625 (where 1 - 2 / (e^2x + 1) would cancel), else that.
@inline
function tanhv(x: v128): v128 {
  const a = f32x4.abs(x);
  const z = f32x4.mul(x, x);
  let p = f32x4.splat(-5.70498872745e-3);
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(2.06390887954e-2));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(-5.37397155531e-2));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(1.33314422036e-1));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(-3.33332819422e-1));
  const small = f32x4.add(f32x4.mul(f32x4.mul(p, z), x), x);
  const big = f32x4.sub(f32x4.splat(1), f32x4.div(f32x4.splat(2), f32x4.add(expv(f32x4.add(a, a)), f32x4.splat(1))));
  // big carries |x|'s sign: copy x's sign bit onto it
  const signed = v128.or(v128.and(big, i32x4.splat(0x7fffffff)), v128.and(x, i32x4.splat(0x80000000)));
  return v128.bitselect(small, signed, f32x4.lt(a, f32x4.splat(0.625)));
}

// The scalar forms the kernels use for rows narrower than four lanes: the same arithmetic.
@inline
function sigmoid(x: f32): f32 {
  return f32x4.extract_lane(sigmoidv(f32x4.splat(x)), 0);
}

// One GRU entry group of four lanes (see gruForward): r, z, c, h' and the saved values.
@inline
function gruLanes(gi: usize, gh: usize, h: usize, out: usize, sv: usize, no: usize): void {
  const r = sigmoidv(f32x4.add(v128.load(gi), v128.load(gh)));
  const z = sigmoidv(f32x4.add(v128.load(gi + no), v128.load(gh + no)));
  const hn = v128.load(gh + 2 * no);
  const c = tanhv(f32x4.add(v128.load(gi + 2 * no), f32x4.mul(r, hn)));
  v128.store(out, f32x4.add(c, f32x4.mul(z, f32x4.sub(v128.load(h), c))));
  v128.store(sv, r);
  v128.store(sv + no, z);
  v128.store(sv + 2 * no, c);
  v128.store(sv + 3 * no, hn);
}

// PyTorch's GRUCell after its two products (biases included): gi = a·W_i + b_i, gh = h·W_h + b_h,
// r = σ(gi_r + gh_r), z = σ(gi_z + gh_z), c = tanh(gi_n + r * gh_n), h' = (1 - z) * c + z * h.
// Saves r, z, c, gh_n per row (4n floats) for the backward.
export function gruForward(gi: usize, gh: usize, h: usize, rows: i32, n: i32, out: usize, saved: usize): void {
  const no = (<usize>n) << 2;
  for (let v = 0; v < rows; v++) {
    const gv = (<usize>(v * 3 * n)) << 2;
    const hv = (<usize>(v * n)) << 2;
    const sv = saved + ((<usize>(v * 4 * n)) << 2);
    let k = 0;
    for (; k + 4 <= n; k += 4) {
      const ko = (<usize>k) << 2;
      gruLanes(gi + gv + ko, gh + gv + ko, h + hv + ko, out + hv + ko, sv + ko, no);
    }
    for (; k < n; k++) {
      // the same lanes on a narrow row: one entry at a time through lane 0
      const ko = (<usize>k) << 2;
      const r = sigmoid(load<f32>(gi + gv + ko) + load<f32>(gh + gv + ko));
      const z = sigmoid(load<f32>(gi + gv + no + ko) + load<f32>(gh + gv + no + ko));
      const hn = load<f32>(gh + gv + 2 * no + ko);
      const c = f32x4.extract_lane(tanhv(f32x4.splat(load<f32>(gi + gv + 2 * no + ko) + r * hn)), 0);
      store<f32>(out + hv + ko, c + z * (load<f32>(h + hv + ko) - c));
      store<f32>(sv + ko, r);
      store<f32>(sv + no + ko, z);
      store<f32>(sv + 2 * no + ko, c);
      store<f32>(sv + 3 * no + ko, hn);
    }
  }
}

// From dh' (dy): dgi, dgh (the products' output gradients, biases' too) and dh = dy * z, written.
export function gruBackward(dy: usize, h: usize, saved: usize, rows: i32, n: i32, dgi: usize, dgh: usize, dh: usize): void {
  const no = (<usize>n) << 2;
  for (let v = 0; v < rows; v++) {
    const gv = (<usize>(v * 3 * n)) << 2;
    const hv = (<usize>(v * n)) << 2;
    const sv = saved + ((<usize>(v * 4 * n)) << 2);
    for (let k = 0; k < n; k++) {
      const ko = (<usize>k) << 2;
      const r = load<f32>(sv + ko);
      const z = load<f32>(sv + no + ko);
      const c = load<f32>(sv + 2 * no + ko);
      const hn = load<f32>(sv + 3 * no + ko);
      const g = load<f32>(dy + hv + ko);
      const dc = g * (1 - z) * (1 - c * c);
      const dz = g * (load<f32>(h + hv + ko) - c) * z * (1 - z);
      const dr = dc * hn * r * (1 - r);
      store<f32>(dh + hv + ko, g * z);
      store<f32>(dgi + gv + ko, dr);
      store<f32>(dgh + gv + ko, dr);
      store<f32>(dgi + gv + no + ko, dz);
      store<f32>(dgh + gv + no + ko, dz);
      store<f32>(dgi + gv + 2 * no + ko, dc);
      store<f32>(dgh + gv + 2 * no + ko, dc * r);
    }
  }
}

// ---- GraphEmbed ------------------------------------------------------------------------------

// y = h·[w_gate | W_proj] + b (width 1+m, biases included): hG[g] = sum over rows v of graph g of
// σ(y_v0) * y_v,1: (hG is overwritten; a graph with no rows gets 0). Saves σ(y_v0) in gate.
export function gatedSum(y: usize, graphOfRow: usize, rows: i32, m: i32, numGraphs: i32, gate: usize, hG: usize): void {
  memory.fill(hG, 0, (<usize>(numGraphs * m)) << 2);
  const w = m + 1;
  for (let v = 0; v < rows; v++) {
    const yv = y + ((<usize>(v * w)) << 2);
    const s = sigmoid(load<f32>(yv));
    store<f32>(gate + ((<usize>v) << 2), s);
    const go = hG + ((<usize>(load<i32>(graphOfRow + ((<usize>v) << 2)) * m)) << 2);
    for (let k = 0; k < m; k++) {
      const o = (<usize>k) << 2;
      store<f32>(go + o, load<f32>(go + o) + s * load<f32>(yv + 4 + o));
    }
  }
}

// dy (width 1+m) from dhG, written.
export function gatedSumBackward(dhG: usize, y: usize, graphOfRow: usize, gate: usize, rows: i32, m: i32, dy: usize): void {
  const w = m + 1;
  for (let v = 0; v < rows; v++) {
    const yv = y + ((<usize>(v * w)) << 2);
    const dv = dy + ((<usize>(v * w)) << 2);
    const s = load<f32>(gate + ((<usize>v) << 2));
    const go = dhG + ((<usize>(load<i32>(graphOfRow + ((<usize>v) << 2)) * m)) << 2);
    let dGate: f32 = 0;
    for (let k = 0; k < m; k++) {
      const o = (<usize>k) << 2;
      const g = load<f32>(go + o);
      dGate += g * load<f32>(yv + 4 + o);
      store<f32>(dv + 4 + o, g * s);
    }
    store<f32>(dv, dGate * s * (1 - s));
  }
}

// ---- layout ----------------------------------------------------------------------------------

// First byte after this module's static data: the engine's arena starts here.
export function heapBase(): usize {
  return __heap_base;
}
