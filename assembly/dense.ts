// Fully connected layer, f32, PyTorch weight layout (N,K): out = inp . weight^T + bias.
import { at, hsum, zero_f32 } from "./simd";

// Dot product of n f32 at x and y: SIMD body, scalar tail, fixed summation order.
// @ts-ignore: decorator
@inline function dot(x: usize, y: usize, n: i32): f32 {
  let acc = f32x4.splat(0);
  let k = 0;
  for (; k + 4 <= n; k += 4) acc = f32x4.add(acc, f32x4.mul(v128.load(at(x, k)), v128.load(at(y, k))));
  let tail: f32 = 0;
  for (; k < n; k++) tail += load<f32>(at(x, k)) * load<f32>(at(y, k));
  return hsum(acc) + tail;
}

// inp (B,K) weight (N,K) bias (N) -> out (B,N); overwrites out.
export function dense_fwd(out: usize, inp: usize, weight: usize, bias: usize, B: i32, K: i32, N: i32): void {
  for (let n = 0; n < N; n++) {
    const w = at(weight, n * K);
    const bn = load<f32>(at(bias, n));
    let b = 0;
    // Four batch rows per pass share each weight load; same order of sums as dot().
    for (; b + 4 <= B; b += 4) {
      const x0 = at(inp, b * K), x1 = at(x0, K), x2 = at(x1, K), x3 = at(x2, K);
      let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
      let k = 0;
      for (; k + 4 <= K; k += 4) {
        const wv = v128.load(at(w, k));
        a0 = f32x4.add(a0, f32x4.mul(v128.load(at(x0, k)), wv));
        a1 = f32x4.add(a1, f32x4.mul(v128.load(at(x1, k)), wv));
        a2 = f32x4.add(a2, f32x4.mul(v128.load(at(x2, k)), wv));
        a3 = f32x4.add(a3, f32x4.mul(v128.load(at(x3, k)), wv));
      }
      let t0: f32 = 0, t1: f32 = 0, t2: f32 = 0, t3: f32 = 0;
      for (; k < K; k++) {
        const ws = load<f32>(at(w, k));
        t0 += load<f32>(at(x0, k)) * ws; t1 += load<f32>(at(x1, k)) * ws;
        t2 += load<f32>(at(x2, k)) * ws; t3 += load<f32>(at(x3, k)) * ws;
      }
      store<f32>(at(out, b * N + n), (hsum(a0) + t0) + bn);
      store<f32>(at(out, (b + 1) * N + n), (hsum(a1) + t1) + bn);
      store<f32>(at(out, (b + 2) * N + n), (hsum(a2) + t2) + bn);
      store<f32>(at(out, (b + 3) * N + n), (hsum(a3) + t3) + bn);
    }
    for (; b < B; b++) store<f32>(at(out, b * N + n), dot(at(inp, b * K), w, K) + bn);
  }
}

// dout (B,N) weight (N,K) -> dinp (B,K) = dout . weight; overwrites dinp.
export function dense_bwd_input(dinp: usize, dout: usize, weight: usize, B: i32, K: i32, N: i32): void {
  zero_f32(dinp, B * K);
  for (let b = 0; b < B; b++) {
    const d = at(dinp, b * K);
    for (let n = 0; n < N; n++) {
      const gs = load<f32>(at(dout, b * N + n));
      const g = f32x4.splat(gs);
      const w = at(weight, n * K);
      let k = 0;
      for (; k + 4 <= K; k += 4) v128.store(at(d, k), f32x4.add(v128.load(at(d, k)), f32x4.mul(g, v128.load(at(w, k)))));
      for (; k < K; k++) store<f32>(at(d, k), load<f32>(at(d, k)) + gs * load<f32>(at(w, k)));
    }
  }
}

// dout (B,N) inp (B,K) -> dweight (N,K) += dout^T . inp, dbias (N) += column sums of dout; ACCUMULATES,
// each element's sum over the call's batch added once (so a batch split into calls adds partial sums).
export function dense_bwd_weight(dweight: usize, dbias: usize, dout: usize, inp: usize, B: i32, K: i32, N: i32): void {
  for (let n = 0; n < N; n++) {
    const dw = at(dweight, n * K);
    let k = 0;
    for (; k + 4 <= K; k += 4) {
      let acc = f32x4.splat(0);
      for (let b = 0; b < B; b++) {
        acc = f32x4.add(acc, f32x4.mul(f32x4.splat(load<f32>(at(dout, b * N + n))), v128.load(at(inp, b * K + k))));
      }
      v128.store(at(dw, k), f32x4.add(v128.load(at(dw, k)), acc));
    }
    for (; k < K; k++) {
      let acc: f32 = 0;
      for (let b = 0; b < B; b++) acc += load<f32>(at(dout, b * N + n)) * load<f32>(at(inp, b * K + k));
      store<f32>(at(dw, k), load<f32>(at(dw, k)) + acc);
    }
    let sum: f32 = 0;
    for (let b = 0; b < B; b++) sum += load<f32>(at(dout, b * N + n));
    store<f32>(at(dbias, n), load<f32>(at(dbias, n)) + sum);
  }
}
