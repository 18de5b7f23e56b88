import * as tf from '@tensorflow/tfjs';

/**
 * The element-wise and index work of a lockstep step fused into single ops with hand-written
 * gradients over Float32Array. tfjs costs 8-15 µs per op here whatever the op's size, and the
 * plain-op GRU, gated sum and message input take ~150 ops per step forward and backward; fused,
 * the dense products stay in tfjs (wasm SIMD) and the rest is five ops. Each op is tested
 * against the plain-op form in dgmg.ts.
 */

type Backward = (dy: Float32Array) => Float32Array[];

/** A custom op of `inputs` computed on their values; the backward returns one array per input. */
function fusedOp(inputs: tf.Tensor[], outShape: number[], run: (xs: Float32Array[]) => { out: Float32Array; backward: Backward }): tf.Tensor {
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const xs = inputs.map((_, i) => (args[i] as tf.Tensor).dataSync() as Float32Array);
    const { out, backward } = run(xs);
    return {
      value: tf.tensor(out, outShape, 'float32'),
      gradFunc: (dy: tf.Tensor) => backward(dy.dataSync() as Float32Array).map((g, i) => tf.tensor(g, inputs[i].shape, 'float32')),
    };
  });
  return op(...inputs);
}

/** The edges of a block-diagonal graph, both directions of each undirected edge, and in-degrees. */
export interface EdgeArrays {
  readonly src: Int32Array;
  readonly dst: Int32Array;
  readonly deg: Float32Array;
}

/**
 * Z = [deg_v h_v ; sum_{u->v} h_u ; deg_v ; deg_v] per node v, so that Z·[W_t ; b_t] is
 * a_v = sum_{u->v} W_t [h_v ; h_u ; 1] + b_t (graphProp in dgmg.ts gives the algebra).
 */
export function messageInput(h: tf.Tensor2D, e: EdgeArrays): tf.Tensor2D {
  const [rows, n] = h.shape;
  const w = 2 * n + 2;
  return fusedOp([h], [rows, w], ([hv]) => {
    const z = new Float32Array(rows * w);
    for (let v = 0; v < rows; v++) {
      const d = e.deg[v];
      for (let k = 0; k < n; k++) z[v * w + k] = d * hv[v * n + k];
      z[v * w + 2 * n] = d;
      z[v * w + 2 * n + 1] = d;
    }
    for (let i = 0; i < e.src.length; i++) {
      const zo = e.dst[i] * w + n;
      const ho = e.src[i] * n;
      for (let k = 0; k < n; k++) z[zo + k] += hv[ho + k];
    }
    return {
      out: z,
      backward: (dz) => {
        const dh = new Float32Array(rows * n);
        for (let v = 0; v < rows; v++) {
          const d = e.deg[v];
          for (let k = 0; k < n; k++) dh[v * n + k] = d * dz[v * w + k];
        }
        for (let i = 0; i < e.src.length; i++) {
          const zo = e.dst[i] * w + n;
          const ho = e.src[i] * n;
          for (let k = 0; k < n; k++) dh[ho + k] += dz[zo + k];
        }
        return [dh];
      },
    };
  }) as tf.Tensor2D;
}

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/**
 * PyTorch's GRUCell after its two products: gi = a·W_i, gh = h·W_h (no biases), gates r, z, n.
 * h' = (1 - z) * c + z * h with r = σ(gi_r + b_ir + gh_r + b_hr), z likewise,
 * c = tanh(gi_n + b_in + r * (gh_n + b_hn)).
 */
export function gruGates(gi: tf.Tensor2D, gh: tf.Tensor2D, h: tf.Tensor2D, bi: tf.Tensor, bh: tf.Tensor): tf.Tensor2D {
  const [rows, n] = h.shape;
  const m = 3 * n;
  return fusedOp([gi, gh, h, bi, bh], [rows, n], ([giv, ghv, hv, biv, bhv]) => {
    const r = new Float32Array(rows * n);
    const z = new Float32Array(rows * n);
    const c = new Float32Array(rows * n);
    const hn = new Float32Array(rows * n); // gh_n + b_hn, needed by the backward
    const out = new Float32Array(rows * n);
    for (let v = 0; v < rows; v++) {
      for (let k = 0; k < n; k++) {
        const o = v * m;
        const j = v * n + k;
        r[j] = sigmoid(giv[o + k] + biv[k] + ghv[o + k] + bhv[k]);
        z[j] = sigmoid(giv[o + n + k] + biv[n + k] + ghv[o + n + k] + bhv[n + k]);
        hn[j] = ghv[o + 2 * n + k] + bhv[2 * n + k];
        c[j] = Math.tanh(giv[o + 2 * n + k] + biv[2 * n + k] + r[j] * hn[j]);
        out[j] = c[j] + z[j] * (hv[j] - c[j]);
      }
    }
    return {
      out,
      backward: (dy) => {
        const dgi = new Float32Array(rows * m);
        const dgh = new Float32Array(rows * m);
        const dh = new Float32Array(rows * n);
        const dbi = new Float32Array(m);
        const dbh = new Float32Array(m);
        for (let v = 0; v < rows; v++) {
          for (let k = 0; k < n; k++) {
            const o = v * m;
            const j = v * n + k;
            const g = dy[j];
            const dc = g * (1 - z[j]) * (1 - c[j] * c[j]);
            const dzPre = g * (hv[j] - c[j]) * z[j] * (1 - z[j]);
            const drPre = dc * hn[j] * r[j] * (1 - r[j]);
            dh[j] = g * z[j];
            dgi[o + k] = drPre;
            dgh[o + k] = drPre;
            dgi[o + n + k] = dzPre;
            dgh[o + n + k] = dzPre;
            dgi[o + 2 * n + k] = dc;
            dgh[o + 2 * n + k] = dc * r[j];
          }
          for (let k = 0; k < m; k++) {
            dbi[k] += dgi[v * m + k];
            dbh[k] += dgh[v * m + k];
          }
        }
        return [dgi, dgh, dh, dbi, dbh];
      },
    };
  }) as tf.Tensor2D;
}

/**
 * GraphEmbed's sum after its one product y = h·[w_gate | W_proj]:
 * h_G[g] = sum over rows v of graph g of σ(y_v0 + b_0) * (y_v,1: + b_1:).
 */
export function gatedGraphSum(y: tf.Tensor2D, b: tf.Tensor1D, graphOfRow: Int32Array, numGraphs: number): tf.Tensor2D {
  const [rows, w] = y.shape;
  const m = w - 1;
  return fusedOp([y, b], [numGraphs, m], ([yv, bv]) => {
    const gate = new Float32Array(rows);
    const out = new Float32Array(numGraphs * m);
    for (let v = 0; v < rows; v++) {
      gate[v] = sigmoid(yv[v * w] + bv[0]);
      const go = graphOfRow[v] * m;
      for (let k = 0; k < m; k++) out[go + k] += gate[v] * (yv[v * w + 1 + k] + bv[1 + k]);
    }
    return {
      out,
      backward: (dhG) => {
        const dy = new Float32Array(rows * w);
        const db = new Float32Array(w);
        for (let v = 0; v < rows; v++) {
          const go = graphOfRow[v] * m;
          let dGate = 0;
          for (let k = 0; k < m; k++) {
            dGate += dhG[go + k] * (yv[v * w + 1 + k] + bv[1 + k]);
            dy[v * w + 1 + k] = dhG[go + k] * gate[v];
          }
          dy[v * w] = dGate * gate[v] * (1 - gate[v]);
          for (let k = 0; k < w; k++) db[k] += dy[v * w + k];
        }
        return [dy, db];
      },
    };
  }) as tf.Tensor2D;
}

/**
 * Rows of concat(parts) picked by `index`, without materialising the concat: tfjs's concat
 * gradient is a SplitV, which costs ~1.6 ms a call on wasm.
 */
export function pickRows(parts: tf.Tensor2D[], index: Int32Array): tf.Tensor2D {
  const n = parts[0].shape[1];
  const starts: number[] = [];
  parts.reduce((s, p) => (starts.push(s), s + p.shape[0]), 0);
  // part and row within it for every output row
  const part = new Int32Array(index.length);
  const row = new Int32Array(index.length);
  index.forEach((r, i) => {
    let k = starts.length - 1;
    while (starts[k] > r) k--;
    part[i] = k;
    row[i] = r - starts[k];
  });
  return fusedOp(parts, [index.length, n], (xs) => {
    const out = new Float32Array(index.length * n);
    for (let i = 0; i < index.length; i++) out.set(xs[part[i]].subarray(row[i] * n, row[i] * n + n), i * n);
    return {
      out,
      backward: (dy) => {
        const grads = parts.map((p) => new Float32Array(p.shape[0] * n));
        for (let i = 0; i < index.length; i++) {
          const g = grads[part[i]];
          const o = row[i] * n;
          for (let k = 0; k < n; k++) g[o + k] += dy[i * n + k];
        }
        return grads;
      },
    };
  }) as tf.Tensor2D;
}

/** concat(parts) along rows, with pickRows's cheap gradient. */
export function stackRows(parts: tf.Tensor2D[]): tf.Tensor2D {
  const total = parts.reduce((s, p) => s + p.shape[0], 0);
  return pickRows(parts, Int32Array.from({ length: total }, (_, i) => i));
}
