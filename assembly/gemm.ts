// Register-blocked f32 matrix products, the engine of the convolutions (see conv2d.ts).
// Every output element is summed in the same order (k = 0, 1, ...) whichever block computes it,
// so blocking and tails never change a result bit.
import { at, hsum, madd } from "./simd";

// out (M,N) = A (M,Kd) . Bm (Kd,N) + bias (M, one per row; bias == 0 means none); overwrites out.
// A[m,k] is at element m*aRow + k*aCol, so the same kernel multiplies by W (aRow = Kd, aCol = 1) or
// by W^T (aRow = 1, aCol = M). Bm and out are row-major. Blocks of 2 rows x 16 columns keep 8
// accumulators, 4 Bm vectors and 2 A splats in the 16 vector registers of x86 and ARM.
export function gemm_nn(out: usize, a: usize, aRow: i32, aCol: i32, bm: usize, bias: usize, M: i32, N: i32, Kd: i32): void {
  const aStep = <usize>aCol << 2, bStep = <usize>N << 2; // bytes from one k to the next
  let m = 0;
  for (; m + 2 <= M; m += 2) {
    const b0: f32 = bias ? load<f32>(at(bias, m)) : 0, b1: f32 = bias ? load<f32>(at(bias, m + 1)) : 0;
    const a0 = at(a, m * aRow), a1 = at(a, (m + 1) * aRow);
    const o0 = at(out, m * N), o1 = at(out, (m + 1) * N);
    let n = 0;
    for (; n + 16 <= N; n += 16) {
      let c00 = f32x4.splat(b0), c01 = c00, c02 = c00, c03 = c00;
      let c10 = f32x4.splat(b1), c11 = c10, c12 = c10, c13 = c10;
      // Pointers step through A's columns and Bm's rows: no multiplications in the hot loop.
      let x = at(bm, n), q0 = a0, q1 = a1;
      for (const end = x + <usize>Kd * bStep; x < end; x += bStep, q0 += aStep, q1 += aStep) {
        const v0 = v128.load(x), v1 = v128.load(x, 16), v2 = v128.load(x, 32), v3 = v128.load(x, 48);
        const w0 = v128.load32_splat(q0), w1 = v128.load32_splat(q1);
        c00 = madd(w0, v0, c00); c01 = madd(w0, v1, c01);
        c02 = madd(w0, v2, c02); c03 = madd(w0, v3, c03);
        c10 = madd(w1, v0, c10); c11 = madd(w1, v1, c11);
        c12 = madd(w1, v2, c12); c13 = madd(w1, v3, c13);
      }
      const p0 = at(o0, n), p1 = at(o1, n);
      v128.store(p0, c00); v128.store(p0, c01, 16); v128.store(p0, c02, 32); v128.store(p0, c03, 48);
      v128.store(p1, c10); v128.store(p1, c11, 16); v128.store(p1, c12, 32); v128.store(p1, c13, 48);
    }
    for (; n + 4 <= N; n += 4) {
      let c0 = f32x4.splat(b0), c1 = f32x4.splat(b1);
      let x = at(bm, n), q0 = a0, q1 = a1;
      for (let k = 0; k < Kd; k++, x += bStep, q0 += aStep, q1 += aStep) {
        const v = v128.load(x);
        c0 = madd(v128.load32_splat(q0), v, c0);
        c1 = madd(v128.load32_splat(q1), v, c1);
      }
      v128.store(at(o0, n), c0); v128.store(at(o1, n), c1);
    }
    for (; n < N; n++) {
      let c0 = b0, c1 = b1;
      for (let k = 0; k < Kd; k++) {
        const v = load<f32>(at(bm, k * N + n));
        c0 += load<f32>(at(a0, k * aCol)) * v;
        c1 += load<f32>(at(a1, k * aCol)) * v;
      }
      store<f32>(at(o0, n), c0); store<f32>(at(o1, n), c1);
    }
  }
  if (m < M) { // odd M: the last row alone
    const b0: f32 = bias ? load<f32>(at(bias, m)) : 0;
    const a0 = at(a, m * aRow), o0 = at(out, m * N);
    let n = 0;
    for (; n + 4 <= N; n += 4) {
      let c0 = f32x4.splat(b0);
      for (let k = 0; k < Kd; k++) c0 = madd(f32x4.splat(load<f32>(at(a0, k * aCol))), v128.load(at(bm, k * N + n)), c0);
      v128.store(at(o0, n), c0);
    }
    for (; n < N; n++) {
      let c0 = b0;
      for (let k = 0; k < Kd; k++) c0 += load<f32>(at(a0, k * aCol)) * load<f32>(at(bm, k * N + n));
      store<f32>(at(o0, n), c0);
    }
  }
}

// One element of gemm_nt_acc: sum over b and p of A_b[m,p] * Bm_b[n,p], in the blocked order.
function dot_nt(a: usize, aBatch: i32, bm: usize, bBatch: i32, P: i32, B: i32): f32 {
  let acc = f32x4.splat(0);
  let tail: f32 = 0;
  for (let b = 0; b < B; b++) {
    const x = at(a, b * aBatch), y = at(bm, b * bBatch);
    let p = 0;
    for (; p + 4 <= P; p += 4) acc = madd(v128.load(at(x, p)), v128.load(at(y, p)), acc);
    for (; p < P; p++) tail += load<f32>(at(x, p)) * load<f32>(at(y, p));
  }
  return hsum(acc) + tail;
}

// out (M,N) += sum over b < B of A_b (M,P) . Bm_b (N,P)^T; A_b starts at element b*aBatch of a,
// Bm_b at b*bBatch of bm, both row-major. ACCUMULATES: each element's whole sum is formed first
// and added once, so splitting a batch into calls adds the same per-call partial sums.
export function gemm_nt_acc(out: usize, a: usize, aBatch: i32, bm: usize, bBatch: i32, M: i32, N: i32, P: i32, B: i32): void {
  let m = 0;
  for (; m + 2 <= M; m += 2) {
    let n = 0;
    // 2 rows of A x 4 rows of Bm: 6 vector loads feed 8 multiply-adds.
    for (; n + 4 <= N; n += 4) {
      let c00 = f32x4.splat(0), c01 = c00, c02 = c00, c03 = c00, c10 = c00, c11 = c00, c12 = c00, c13 = c00;
      let t00: f32 = 0, t01: f32 = 0, t02: f32 = 0, t03: f32 = 0, t10: f32 = 0, t11: f32 = 0, t12: f32 = 0, t13: f32 = 0;
      for (let b = 0; b < B; b++) {
        const x0 = at(a, b * aBatch + m * P), x1 = at(x0, P);
        const y0 = at(bm, b * bBatch + n * P), y1 = at(y0, P), y2 = at(y1, P), y3 = at(y2, P);
        let p = 0;
        for (; p + 4 <= P; p += 4) {
          const u0 = v128.load(at(x0, p)), u1 = v128.load(at(x1, p));
          const v0 = v128.load(at(y0, p)), v1 = v128.load(at(y1, p)), v2 = v128.load(at(y2, p)), v3 = v128.load(at(y3, p));
          c00 = madd(u0, v0, c00); c01 = madd(u0, v1, c01);
          c02 = madd(u0, v2, c02); c03 = madd(u0, v3, c03);
          c10 = madd(u1, v0, c10); c11 = madd(u1, v1, c11);
          c12 = madd(u1, v2, c12); c13 = madd(u1, v3, c13);
        }
        for (; p < P; p++) {
          const u0 = load<f32>(at(x0, p)), u1 = load<f32>(at(x1, p));
          const v0 = load<f32>(at(y0, p)), v1 = load<f32>(at(y1, p)), v2 = load<f32>(at(y2, p)), v3 = load<f32>(at(y3, p));
          t00 += u0 * v0; t01 += u0 * v1; t02 += u0 * v2; t03 += u0 * v3;
          t10 += u1 * v0; t11 += u1 * v1; t12 += u1 * v2; t13 += u1 * v3;
        }
      }
      const r0 = at(out, m * N + n), r1 = at(r0, N);
      store<f32>(r0, load<f32>(r0) + (hsum(c00) + t00)); store<f32>(r0, load<f32>(r0, 4) + (hsum(c01) + t01), 4);
      store<f32>(r0, load<f32>(r0, 8) + (hsum(c02) + t02), 8); store<f32>(r0, load<f32>(r0, 12) + (hsum(c03) + t03), 12);
      store<f32>(r1, load<f32>(r1) + (hsum(c10) + t10)); store<f32>(r1, load<f32>(r1, 4) + (hsum(c11) + t11), 4);
      store<f32>(r1, load<f32>(r1, 8) + (hsum(c12) + t12), 8); store<f32>(r1, load<f32>(r1, 12) + (hsum(c13) + t13), 12);
    }
    for (; n < N; n++) {
      for (let i = 0; i < 2; i++) {
        const r = at(out, (m + i) * N + n);
        store<f32>(r, load<f32>(r) + dot_nt(at(a, (m + i) * P), aBatch, at(bm, n * P), bBatch, P, B));
      }
    }
  }
  for (; m < M; m++) {
    for (let n = 0; n < N; n++) {
      const r = at(out, m * N + n);
      store<f32>(r, load<f32>(r) + dot_nt(at(a, m * P), aBatch, at(bm, n * P), bBatch, P, B));
    }
  }
}
