/** Eigenvalues in ascending order and, when asked for, the matching unit eigenvectors. */
export interface SymmetricEigen {
  readonly values: Float64Array;
  /** n x n row-major, column k the eigenvector of values[k]; absent unless asked for. */
  readonly vectors?: Float64Array;
}

const EPS = 2 ** -52;

/**
 * The eigen-decomposition of the symmetric n x n matrix `a` (row-major; only read): Householder
 * reduction to tridiagonal form, then the implicit QL iteration with Wilkinson-style shifts
 * (EISPACK's tred2 and tql2, as JAMA writes them). Exact to round-off, O(n^3); without vectors
 * the reduction skips accumulating its transformations and QL skips rotating them, which makes
 * it several times cheaper.
 */
export function symmetricEigen(a: ArrayLike<number>, n: number, withVectors = false): SymmetricEigen {
  if (a.length !== n * n) throw new Error(`symmetricEigen: a ${n} x ${n} matrix needs ${n * n} entries, got ${a.length}`);
  const V = Float64Array.from(a);
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  if (n === 0) return { values: d, ...(withVectors ? { vectors: V } : {}) };
  tridiagonalize(V, d, e, n, withVectors);
  qlImplicit(V, d, e, n, withVectors);
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => d[i] - d[j]);
  const values = Float64Array.from(order, (i) => d[i]);
  if (!withVectors) return { values };
  const vectors = new Float64Array(n * n);
  for (let r = 0; r < n; r++) for (let k = 0; k < n; k++) vectors[r * n + k] = V[r * n + order[k]];
  return { values, vectors };
}

/** Householder reduction (tred2): on return d is the diagonal and e[1..n) the subdiagonal. */
function tridiagonalize(V: Float64Array, d: Float64Array, e: Float64Array, n: number, withVectors: boolean): void {
  for (let j = 0; j < n; j++) d[j] = V[(n - 1) * n + j];
  for (let i = n - 1; i > 0; i--) {
    let scale = 0;
    let h = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(d[k]);
    if (scale === 0) {
      e[i] = d[i - 1];
      for (let j = 0; j < i; j++) {
        d[j] = V[(i - 1) * n + j];
        V[i * n + j] = 0;
        V[j * n + i] = 0;
      }
    } else {
      for (let k = 0; k < i; k++) {
        d[k] /= scale;
        h += d[k] * d[k];
      }
      let f = d[i - 1];
      let g = Math.sqrt(h);
      if (f > 0) g = -g;
      e[i] = scale * g;
      h -= f * g;
      d[i - 1] = f - g;
      for (let j = 0; j < i; j++) e[j] = 0;
      for (let j = 0; j < i; j++) {
        f = d[j];
        V[j * n + i] = f;
        g = e[j] + V[j * n + j] * f;
        for (let k = j + 1; k <= i - 1; k++) {
          g += V[k * n + j] * d[k];
          e[k] += V[k * n + j] * f;
        }
        e[j] = g;
      }
      f = 0;
      for (let j = 0; j < i; j++) {
        e[j] /= h;
        f += e[j] * d[j];
      }
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) e[j] -= hh * d[j];
      for (let j = 0; j < i; j++) {
        f = d[j];
        g = e[j];
        for (let k = j; k <= i - 1; k++) V[k * n + j] -= f * e[k] + g * d[k];
        d[j] = V[(i - 1) * n + j];
        V[i * n + j] = 0;
      }
    }
    d[i] = h;
  }
  if (!withVectors) {
    // The diagonal of the reduced matrix stays on V's diagonal; d held the Householder norms.
    for (let j = 0; j < n; j++) d[j] = V[j * n + j];
    e[0] = 0;
    return;
  }
  for (let i = 0; i < n - 1; i++) {
    V[(n - 1) * n + i] = V[i * n + i];
    V[i * n + i] = 1;
    const h = d[i + 1];
    if (h !== 0) {
      for (let k = 0; k <= i; k++) d[k] = V[k * n + i + 1] / h;
      for (let j = 0; j <= i; j++) {
        let g = 0;
        for (let k = 0; k <= i; k++) g += V[k * n + i + 1] * V[k * n + j];
        for (let k = 0; k <= i; k++) V[k * n + j] -= g * d[k];
      }
    }
    for (let k = 0; k <= i; k++) V[k * n + i + 1] = 0;
  }
  for (let j = 0; j < n; j++) {
    d[j] = V[(n - 1) * n + j];
    V[(n - 1) * n + j] = 0;
  }
  V[n * n - 1] = 1;
  e[0] = 0;
}

/** Implicit QL on the tridiagonal (d, e) (tql2); d becomes the eigenvalues, V's columns the vectors. */
function qlImplicit(V: Float64Array, d: Float64Array, e: Float64Array, n: number, withVectors: boolean): void {
  for (let i = 1; i < n; i++) e[i - 1] = e[i];
  e[n - 1] = 0;
  let f = 0;
  let tst1 = 0;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l]) + Math.abs(e[l]));
    let m = l;
    while (m < n - 1 && Math.abs(e[m]) > EPS * tst1) m++;
    if (m > l) {
      do {
        let g = d[l];
        let p = (d[l + 1] - g) / (2 * e[l]);
        let r = Math.hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l] / (p + r);
        d[l + 1] = e[l] * (p + r);
        const dl1 = d[l + 1];
        let h = g - d[l];
        for (let i = l + 2; i < n; i++) d[i] -= h;
        f += h;
        p = d[m];
        let c = 1;
        let c2 = c;
        let c3 = c;
        const el1 = e[l + 1];
        let s = 0;
        let s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i];
          h = c * p;
          r = Math.hypot(p, e[i]);
          e[i + 1] = s * r;
          s = e[i] / r;
          c = p / r;
          p = c * d[i] - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]);
          if (withVectors) {
            for (let k = 0; k < n; k++) {
              const t = V[k * n + i + 1];
              V[k * n + i + 1] = s * V[k * n + i] + c * t;
              V[k * n + i] = c * V[k * n + i] - s * t;
            }
          }
        }
        p = (-s * s2 * c3 * el1 * e[l]) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l]) > EPS * tst1);
    }
    d[l] += f;
    e[l] = 0;
  }
}
