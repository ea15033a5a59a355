// Fully connected layer, f32, PyTorch weight layout (N,K): out = inp . weight^T + bias.
import { at, hsum, madd, zero_f32 } from "./simd";

// Dot product of n f32 at x and y: SIMD body, scalar tail, fixed summation order.
// @ts-ignore: decorator
@inline function dot(x: usize, y: usize, n: i32): f32 {
  let acc = f32x4.splat(0);
  let k = 0;
  for (; k + 4 <= n; k += 4) acc = madd(v128.load(at(x, k)), v128.load(at(y, k)), acc);
  let tail: f32 = 0;
  for (; k < n; k++) tail += load<f32>(at(x, k)) * load<f32>(at(y, k));
  return hsum(acc) + tail;
}

// inp (B,K) weight (N,K) bias (N) -> out (B,N); overwrites out.
export function dense_fwd(out: usize, inp: usize, weight: usize, bias: usize, B: i32, K: i32, N: i32): void {
  // Blocks of 4 batch rows x 2 outputs: 6 loads feed 8 multiply-adds. Same order of sums as dot().
  for (let b = 0; b + 4 <= B; b += 4) {
    const x0 = at(inp, b * K), x1 = at(x0, K), x2 = at(x1, K), x3 = at(x2, K);
    const o = at(out, b * N);
    let n = 0;
    for (; n + 2 <= N; n += 2) {
      const w0 = at(weight, n * K), w1 = at(w0, K);
      let a00 = f32x4.splat(0), a10 = a00, a20 = a00, a30 = a00, a01 = a00, a11 = a00, a21 = a00, a31 = a00;
      let k = 0;
      for (; k + 4 <= K; k += 4) {
        const u0 = v128.load(at(x0, k)), u1 = v128.load(at(x1, k)), u2 = v128.load(at(x2, k)), u3 = v128.load(at(x3, k));
        const v0 = v128.load(at(w0, k)), v1 = v128.load(at(w1, k));
        a00 = madd(u0, v0, a00); a10 = madd(u1, v0, a10); a20 = madd(u2, v0, a20); a30 = madd(u3, v0, a30);
        a01 = madd(u0, v1, a01); a11 = madd(u1, v1, a11); a21 = madd(u2, v1, a21); a31 = madd(u3, v1, a31);
      }
      let t00: f32 = 0, t10: f32 = 0, t20: f32 = 0, t30: f32 = 0, t01: f32 = 0, t11: f32 = 0, t21: f32 = 0, t31: f32 = 0;
      for (; k < K; k++) {
        const u0 = load<f32>(at(x0, k)), u1 = load<f32>(at(x1, k)), u2 = load<f32>(at(x2, k)), u3 = load<f32>(at(x3, k));
        const v0 = load<f32>(at(w0, k)), v1 = load<f32>(at(w1, k));
        t00 += u0 * v0; t10 += u1 * v0; t20 += u2 * v0; t30 += u3 * v0;
        t01 += u0 * v1; t11 += u1 * v1; t21 += u2 * v1; t31 += u3 * v1;
      }
      const c0 = load<f32>(at(bias, n)), c1 = load<f32>(at(bias, n + 1));
      store<f32>(at(o, n), (hsum(a00) + t00) + c0); store<f32>(at(o, n + 1), (hsum(a01) + t01) + c1);
      store<f32>(at(o, N + n), (hsum(a10) + t10) + c0); store<f32>(at(o, N + n + 1), (hsum(a11) + t11) + c1);
      store<f32>(at(o, 2 * N + n), (hsum(a20) + t20) + c0); store<f32>(at(o, 2 * N + n + 1), (hsum(a21) + t21) + c1);
      store<f32>(at(o, 3 * N + n), (hsum(a30) + t30) + c0); store<f32>(at(o, 3 * N + n + 1), (hsum(a31) + t31) + c1);
    }
    if (n < N) { // odd N: the last output of the 4 rows
      const w = at(weight, n * K), c = load<f32>(at(bias, n));
      for (let r = 0; r < 4; r++) store<f32>(at(o, r * N + n), dot(at(x0, r * K), w, K) + c);
    }
  }
  // Rows left over (B % 4; all of them at batch 1): four weight rows per pass share each input load.
  // Four independent sums hide the add latency that a single dot() waits on; the same order of sums.
  for (let b = B & ~3; b < B; b++) {
    const x = at(inp, b * K), o = at(out, b * N);
    let n = 0;
    for (; n + 4 <= N; n += 4) {
      const w0 = at(weight, n * K), w1 = at(w0, K), w2 = at(w1, K), w3 = at(w2, K);
      let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
      let k = 0;
      for (; k + 4 <= K; k += 4) {
        const xv = v128.load(at(x, k));
        a0 = madd(xv, v128.load(at(w0, k)), a0);
        a1 = madd(xv, v128.load(at(w1, k)), a1);
        a2 = madd(xv, v128.load(at(w2, k)), a2);
        a3 = madd(xv, v128.load(at(w3, k)), a3);
      }
      let t0: f32 = 0, t1: f32 = 0, t2: f32 = 0, t3: f32 = 0;
      for (; k < K; k++) {
        const xs = load<f32>(at(x, k));
        t0 += xs * load<f32>(at(w0, k)); t1 += xs * load<f32>(at(w1, k));
        t2 += xs * load<f32>(at(w2, k)); t3 += xs * load<f32>(at(w3, k));
      }
      store<f32>(at(o, n), (hsum(a0) + t0) + load<f32>(at(bias, n)));
      store<f32>(at(o, n + 1), (hsum(a1) + t1) + load<f32>(at(bias, n + 1)));
      store<f32>(at(o, n + 2), (hsum(a2) + t2) + load<f32>(at(bias, n + 2)));
      store<f32>(at(o, n + 3), (hsum(a3) + t3) + load<f32>(at(bias, n + 3)));
    }
    for (; n < N; n++) store<f32>(at(o, n), dot(x, at(weight, n * K), K) + load<f32>(at(bias, n)));
  }
}

// dout (B,N) weight (N,K) -> dinp (B,K) = dout . weight; overwrites dinp. Each dinp element sums
// n = 0, 1, ... in order, from 0. Blocks of 4 batch rows x 8 inputs keep 8 sums in registers, fed
// by 2 weight loads and 4 broadcasts per n; then 4 inputs, then one; rows left over alone.
export function dense_bwd_input(dinp: usize, dout: usize, weight: usize, B: i32, K: i32, N: i32): void {
  const rowBytes = <usize>K << 2;
  let b = 0;
  for (; b + 4 <= B; b += 4) {
    const g0 = at(dout, b * N), g1 = at(g0, N), g2 = at(g1, N), g3 = at(g2, N);
    const d0 = at(dinp, b * K), d1 = at(d0, K), d2 = at(d1, K), d3 = at(d2, K);
    let k = 0;
    for (; k + 8 <= K; k += 8) {
      let a00 = f32x4.splat(0), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00, a30 = a00, a31 = a00;
      let w = at(weight, k), x0 = g0, x1 = g1, x2 = g2, x3 = g3;
      for (let n = 0; n < N; n++, w += rowBytes, x0 += 4, x1 += 4, x2 += 4, x3 += 4) {
        const v0 = v128.load(w), v1 = v128.load(w, 16);
        const s0 = v128.load32_splat(x0), s1 = v128.load32_splat(x1), s2 = v128.load32_splat(x2), s3 = v128.load32_splat(x3);
        a00 = madd(s0, v0, a00); a01 = madd(s0, v1, a01); a10 = madd(s1, v0, a10); a11 = madd(s1, v1, a11);
        a20 = madd(s2, v0, a20); a21 = madd(s2, v1, a21); a30 = madd(s3, v0, a30); a31 = madd(s3, v1, a31);
      }
      v128.store(at(d0, k), a00); v128.store(at(d0, k + 4), a01); v128.store(at(d1, k), a10); v128.store(at(d1, k + 4), a11);
      v128.store(at(d2, k), a20); v128.store(at(d2, k + 4), a21); v128.store(at(d3, k), a30); v128.store(at(d3, k + 4), a31);
    }
    for (; k + 4 <= K; k += 4) {
      let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
      let w = at(weight, k), x0 = g0, x1 = g1, x2 = g2, x3 = g3;
      for (let n = 0; n < N; n++, w += rowBytes, x0 += 4, x1 += 4, x2 += 4, x3 += 4) {
        const v = v128.load(w);
        a0 = madd(v128.load32_splat(x0), v, a0); a1 = madd(v128.load32_splat(x1), v, a1);
        a2 = madd(v128.load32_splat(x2), v, a2); a3 = madd(v128.load32_splat(x3), v, a3);
      }
      v128.store(at(d0, k), a0); v128.store(at(d1, k), a1); v128.store(at(d2, k), a2); v128.store(at(d3, k), a3);
    }
    for (; k < K; k++) {
      let t0: f32 = 0, t1: f32 = 0, t2: f32 = 0, t3: f32 = 0;
      for (let n = 0; n < N; n++) {
        const v = load<f32>(at(weight, n * K + k));
        t0 += load<f32>(at(g0, n)) * v; t1 += load<f32>(at(g1, n)) * v; t2 += load<f32>(at(g2, n)) * v; t3 += load<f32>(at(g3, n)) * v;
      }
      store<f32>(at(d0, k), t0); store<f32>(at(d1, k), t1); store<f32>(at(d2, k), t2); store<f32>(at(d3, k), t3);
    }
  }
  for (; b < B; b++) {
    const g = at(dout, b * N), d = at(dinp, b * K);
    let k = 0;
    for (; k + 4 <= K; k += 4) {
      let acc = f32x4.splat(0);
      let w = at(weight, k);
      for (let n = 0; n < N; n++, w += rowBytes) acc = madd(v128.load32_splat(at(g, n)), v128.load(w), acc);
      v128.store(at(d, k), acc);
    }
    for (; k < K; k++) {
      let t: f32 = 0;
      for (let n = 0; n < N; n++) t += load<f32>(at(g, n)) * load<f32>(at(weight, n * K + k));
      store<f32>(at(d, k), t);
    }
  }
}

// dout (B,N) inp (B,K) -> dweight (N,K) += dout^T . inp, dbias (N) += column sums of dout; ACCUMULATES,
// each element's sum over the call's batch added once (so a batch split into calls adds partial sums).
// Two weight rows x two vectors per pass: each input vector load feeds two rows.
export function dense_bwd_weight(dweight: usize, dbias: usize, dout: usize, inp: usize, B: i32, K: i32, N: i32): void {
  let n = 0;
  // Blocks of 2 rows x 16 columns: 8 independent sums (enough to hide the add latency), each over
  // b in order, as dense_weight_rows sums it.
  for (; n + 2 <= N; n += 2) {
    const dw0 = at(dweight, n * K), dw1 = at(dw0, K);
    let k = 0;
    for (; k + 16 <= K; k += 16) {
      let a00 = f32x4.splat(0), a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00, a13 = a00;
      let x = at(inp, k), g = at(dout, n);
      // Ends on a pointer: a counter too was one instruction more per 8 multiply-adds (5% slower).
      for (const end = g + (<usize>(B * N) << 2); g < end; x += <usize>K << 2, g += <usize>N << 2) {
        const u0 = v128.load(x), u1 = v128.load(x, 16), u2 = v128.load(x, 32), u3 = v128.load(x, 48);
        const g0 = v128.load32_splat(g), g1 = v128.load32_splat(g, 4);
        a00 = madd(g0, u0, a00); a01 = madd(g0, u1, a01); a02 = madd(g0, u2, a02); a03 = madd(g0, u3, a03);
        a10 = madd(g1, u0, a10); a11 = madd(g1, u1, a11); a12 = madd(g1, u2, a12); a13 = madd(g1, u3, a13);
      }
      const p0 = at(dw0, k), p1 = at(dw1, k);
      v128.store(p0, f32x4.add(v128.load(p0), a00)); v128.store(p0, f32x4.add(v128.load(p0, 16), a01), 16);
      v128.store(p0, f32x4.add(v128.load(p0, 32), a02), 32); v128.store(p0, f32x4.add(v128.load(p0, 48), a03), 48);
      v128.store(p1, f32x4.add(v128.load(p1), a10)); v128.store(p1, f32x4.add(v128.load(p1, 16), a11), 16);
      v128.store(p1, f32x4.add(v128.load(p1, 32), a12), 32); v128.store(p1, f32x4.add(v128.load(p1, 48), a13), 48);
    }
    dense_weight_rows(dweight, dout, inp, B, K, N, n, n + 2, k);
  }
  dense_weight_rows(dweight, dout, inp, B, K, N, n, N, 0);
  for (let j = 0; j < N; j++) {
    let sum: f32 = 0;
    for (let b = 0; b < B; b++) sum += load<f32>(at(dout, b * N + j));
    store<f32>(at(dbias, j), load<f32>(at(dbias, j)) + sum);
  }
}

// dweight rows [n0, n1), columns [k0, K) of dense_bwd_weight, one row and one vector at a time.
function dense_weight_rows(dweight: usize, dout: usize, inp: usize, B: i32, K: i32, N: i32, n0: i32, n1: i32, k0: i32): void {
  for (let n = n0; n < n1; n++) {
    const dw = at(dweight, n * K);
    let k = k0;
    for (; k + 4 <= K; k += 4) {
      let acc = f32x4.splat(0);
      for (let b = 0; b < B; b++) {
        acc = madd(f32x4.splat(load<f32>(at(dout, b * N + n))), v128.load(at(inp, b * K + k)), acc);
      }
      v128.store(at(dw, k), f32x4.add(v128.load(at(dw, k)), acc));
    }
    for (; k < K; k++) {
      let acc: f32 = 0;
      for (let b = 0; b < B; b++) acc += load<f32>(at(dout, b * N + n)) * load<f32>(at(inp, b * K + k));
      store<f32>(at(dw, k), load<f32>(at(dw, k)) + acc);
    }
  }
}
