// Int8 inference kernels: int8 weights (per-output-channel scale) times int8 activations (one scale
// per tensor), products summed exactly in i32 with i32x4.dot_i16x8_s (two i16 products per lane per
// instruction: 8 multiply-adds per dot), then dequantised to f32: f32(acc) * scale + bias, where
// scale = weight scale * input scale. Integer sums are exact, so the result does not depend on the
// order or the blocking; only the two rounded f32 operations of the dequantisation round.
import { at } from "./simd";

/** Largest magnitude of a quantised value: symmetric [-127, 127], so -x is always representable. */
// @ts-ignore: decorator
@inline const QMAX: f32 = 127;

// inp (n) f32 -> out (n) i8 = clamp(nearest(inp * invScale), -127, 127), round half to even;
// overwrites out. 16 values per pass: four f32x4 -> four i32x4 -> two i16x8 -> one i8x16.
export function quantize_i8(out: usize, inp: usize, n: i32, invScale: f32): void {
  const s = f32x4.splat(invScale), hi = f32x4.splat(QMAX), lo = f32x4.splat(-QMAX);
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const x = at(inp, i);
    // Clamp before converting: the narrowing saturates at -128, outside the symmetric range.
    const q0 = i32x4.trunc_sat_f32x4_s(f32x4.max(f32x4.min(f32x4.nearest(f32x4.mul(v128.load(x), s)), hi), lo));
    const q1 = i32x4.trunc_sat_f32x4_s(f32x4.max(f32x4.min(f32x4.nearest(f32x4.mul(v128.load(x, 16), s)), hi), lo));
    const q2 = i32x4.trunc_sat_f32x4_s(f32x4.max(f32x4.min(f32x4.nearest(f32x4.mul(v128.load(x, 32), s)), hi), lo));
    const q3 = i32x4.trunc_sat_f32x4_s(f32x4.max(f32x4.min(f32x4.nearest(f32x4.mul(v128.load(x, 48), s)), hi), lo));
    v128.store(out + <usize>i, i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(q0, q1), i16x8.narrow_i32x4_s(q2, q3)));
  }
  for (; i < n; i++) {
    const q = Mathf.max(Mathf.min(nearest<f32>(load<f32>(at(inp, i)) * invScale), QMAX), -QMAX);
    store<i8>(out + <usize>i, <i8>(<i32>q));
  }
}

// 8 values of an i8 (T = i8) or u8 (T = u8: raw pixels) row, widened to i16x8.
// @ts-ignore: decorator
@inline function load8<T>(p: usize): v128 {
  return isSigned<T>() ? v128.load8x8_s(p) : v128.load8x8_u(p);
}

// inp (C,H,W) of T (i8, or u8 for raw pixels) -> pairs (C,H,W,2) i16: pairs[c,y,x] = (inp[c,y,x],
// inp[c,y,x+1]), the second 0 at x = W-1. A convolution then reads the two neighbours (kw, kw+1)
// it multiplies by one weight pair with a single 32-bit lane, and 4 neighbouring outputs with one
// v128 load: no im2col.
function pair_rows<T>(pairs: usize, inp: usize, C: i32, H: i32, W: i32): void {
  for (let row = 0; row < C * H; row++) {
    const a = inp + <usize>(row * W), d = pairs + (<usize>(row * W) << 2);
    if (W >= 9) {
      // 8 pairs per pass read 9 values; the last pass ends at W-2, overlapping the one before.
      for (let x = 0; x < W - 1; x += 8) {
        const j = <usize>min(x, W - 9);
        const u = load8<T>(a + j), v = load8<T>(a + j + 1);
        v128.store(d + (j << 2), v128.shuffle<i16>(u, v, 0, 8, 1, 9, 2, 10, 3, 11));
        v128.store(d + (j << 2), v128.shuffle<i16>(u, v, 4, 12, 5, 13, 6, 14, 7, 15), 16);
      }
    } else {
      for (let x = 0; x < W - 1; x++) {
        store<i16>(d + (<usize>x << 2), <i16>load<T>(a + <usize>x));
        store<i16>(d + (<usize>x << 2), <i16>load<T>(a + <usize>x + 1), 2);
      }
    }
    store<i16>(d + (<usize>(W - 1) << 2), <i16>load<T>(a + <usize>(W - 1)));
    store<i16>(d + (<usize>(W - 1) << 2), 0, 2);
  }
}

// f32x4 of acc * scale + bias: the dequantisation, two rounded f32 operations.
// @ts-ignore: decorator
@inline function dequant(acc: v128, scale: v128, bias: v128): v128 {
  return f32x4.add(f32x4.mul(f32x4.convert_i32x4_s(acc), scale), bias);
}

// Copies n f32 from src to dst (n >= 4: vectors, the last one overlapping; else scalars).
// @ts-ignore: decorator
@inline function copy_f32(dst: usize, src: usize, n: i32): void {
  if (n >= 4) {
    for (let i = 0; i < n; i += 4) {
      const j = min(i, n - 4);
      v128.store(at(dst, j), v128.load(at(src, j)));
    }
  } else for (let i = 0; i < n; i++) store<f32>(at(dst, i), load<f32>(at(src, i)));
}

// Bytes of conv2d_fwd_i8's scratch: the pair plane (C*H*W pairs, plus up to K+2 read past its end
// for discarded columns) rounded up to 16 bytes, then the full-width output (OC, OH*W rounded up to 4) f32.
export function conv2d_fwd_i8_scratch(C: i32, H: i32, W: i32, OC: i32, K: i32): i32 {
  return ((((C * H * W + K + 2) << 2) + 15) & ~15) + ((OC * (((H - K + 1) * W + 3) & ~3)) << 2);
}

// inp (B,C,H,W) i8 (u8 when unsigned: raw pixels) weight (OC,C,K,J,2) i16 with J = ceil(K/2): the
// (OC,C,K,K) int8 weights widened, each kernel row as pairs (kw = 2j, 2j+1) with a 0 for kw = K;
// scale (OC) f32 = weight scale * input scale; bias (OC) f32 -> out (B,OC,OH,OW) f32 = sum * scale
// + bias, OH = H-K+1, OW = W-K+1; overwrites out. scratch: conv2d_fwd_i8_scratch bytes, one image.
// No im2col: output position n = oh*W + ow reads weight pair (c,kh,j) times pairs[c, kh, 2j + n],
// so over n every pair row is a contiguous run of the pair plane. The product is computed for all
// W columns (ow >= OW wrap into the next row: discarded) and the OW valid ones copied to out.
export function conv2d_fwd_i8(out: usize, scratch: usize, inp: usize, weight: usize, scale: usize, bias: usize,
  B: i32, C: i32, H: i32, W: i32, OC: i32, K: i32, unsigned: bool): void {
  const OH = H - K + 1, OW = W - K + 1, J = (K + 1) >> 1, N = OH * W;
  const N4 = (N + 3) & ~3; // row stride of the full-width output: the last 4-block stays in its row
  const pairs = scratch, full = scratch + ((((C * H * W + K + 2) << 2) + 15) & ~15);
  const wRow = <usize>(C * K * J) << 2; // bytes of one output channel's weight pairs
  for (let b = 0; b < B; b++) {
    const image = inp + <usize>(b * C * H * W);
    if (unsigned) pair_rows<u8>(pairs, image, C, H, W);
    else pair_rows<i8>(pairs, image, C, H, W);
    for (let m = 0; m < OC; m += 2) {
      const two = m + 1 < OC; // odd OC: the last channel pairs with itself and is stored once
      const m1 = two ? m + 1 : m;
      const w0 = weight + <usize>m * wRow, w1 = weight + <usize>m1 * wRow;
      const s0 = f32x4.splat(load<f32>(at(scale, m))), b0 = f32x4.splat(load<f32>(at(bias, m)));
      const s1 = f32x4.splat(load<f32>(at(scale, m1))), b1 = f32x4.splat(load<f32>(at(bias, m1)));
      const o0 = at(full, m * N4), o1 = at(full, m1 * N4);
      let n = 0;
      // Blocks of 2 channels x 16 positions: 8 i32x4 accumulators, 4 pair vectors, 2 weight splats.
      for (; n + 16 <= N; n += 16) {
        let c00 = i32x4.splat(0), c01 = c00, c02 = c00, c03 = c00, c10 = c00, c11 = c00, c12 = c00, c13 = c00;
        let p0 = w0, p1 = w1;
        for (let c = 0; c < C; c++) {
          for (let kh = 0; kh < K; kh++) {
            let x = pairs + (<usize>((c * H + kh) * W + n) << 2);
            for (let j = 0; j < J; j++, x += 8, p0 += 4, p1 += 4) {
              const v0 = v128.load(x), v1 = v128.load(x, 16), v2 = v128.load(x, 32), v3 = v128.load(x, 48);
              const a0 = i32x4.splat(load<i32>(p0)), a1 = i32x4.splat(load<i32>(p1)); // (w[2j], w[2j+1]) in every lane
              c00 = i32x4.add(c00, i32x4.dot_i16x8_s(v0, a0)); c01 = i32x4.add(c01, i32x4.dot_i16x8_s(v1, a0));
              c02 = i32x4.add(c02, i32x4.dot_i16x8_s(v2, a0)); c03 = i32x4.add(c03, i32x4.dot_i16x8_s(v3, a0));
              c10 = i32x4.add(c10, i32x4.dot_i16x8_s(v0, a1)); c11 = i32x4.add(c11, i32x4.dot_i16x8_s(v1, a1));
              c12 = i32x4.add(c12, i32x4.dot_i16x8_s(v2, a1)); c13 = i32x4.add(c13, i32x4.dot_i16x8_s(v3, a1));
            }
          }
        }
        const r0 = at(o0, n), r1 = at(o1, n);
        v128.store(r0, dequant(c00, s0, b0)); v128.store(r0, dequant(c01, s0, b0), 16);
        v128.store(r0, dequant(c02, s0, b0), 32); v128.store(r0, dequant(c03, s0, b0), 48);
        v128.store(r1, dequant(c10, s1, b1)); v128.store(r1, dequant(c11, s1, b1), 16); // o1 == o0 for odd OC: same values
        v128.store(r1, dequant(c12, s1, b1), 32); v128.store(r1, dequant(c13, s1, b1), 48);
      }
      // The rest, 4 positions at a time.
      for (; n < N; n += 4) {
        let c0 = i32x4.splat(0), c1 = c0;
        let p0 = w0, p1 = w1;
        for (let c = 0; c < C; c++) {
          for (let kh = 0; kh < K; kh++) {
            let x = pairs + (<usize>((c * H + kh) * W + n) << 2);
            for (let j = 0; j < J; j++, x += 8, p0 += 4, p1 += 4) {
              const v = v128.load(x);
              c0 = i32x4.add(c0, i32x4.dot_i16x8_s(v, i32x4.splat(load<i32>(p0))));
              c1 = i32x4.add(c1, i32x4.dot_i16x8_s(v, i32x4.splat(load<i32>(p1))));
            }
          }
        }
        v128.store(at(o0, n), dequant(c0, s0, b0));
        v128.store(at(o1, n), dequant(c1, s1, b1));
      }
    }
    for (let oc = 0; oc < OC; oc++) {
      for (let oh = 0; oh < OH; oh++) copy_f32(at(out, ((b * OC + oc) * OH + oh) * OW), at(full, oc * N4 + oh * W), OW);
    }
  }
}

// inp (B,K) i8 weight (N,K) i8 scale (N) f32 bias (N) f32 -> out (B,N) f32 =
// (inp . weight^T) * scale + bias; overwrites out. Four batch rows per pass share each weight load,
// then the remaining rows one at a time; v128.load8x8_s widens 8 int8 to i16 as it loads.
export function dense_fwd_i8(out: usize, inp: usize, weight: usize, scale: usize, bias: usize, B: i32, K: i32, N: i32): void {
  for (let n = 0; n < N; n++) {
    const w = weight + <usize>(n * K);
    const sn = load<f32>(at(scale, n)), bn = load<f32>(at(bias, n));
    let b = 0;
    for (; b + 4 <= B; b += 4) {
      const x0 = inp + <usize>(b * K), x1 = x0 + <usize>K, x2 = x1 + <usize>K, x3 = x2 + <usize>K;
      let a0 = i32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
      let k = 0;
      for (; k + 8 <= K; k += 8) {
        const wv = v128.load8x8_s(w + <usize>k);
        a0 = i32x4.add(a0, i32x4.dot_i16x8_s(v128.load8x8_s(x0 + <usize>k), wv));
        a1 = i32x4.add(a1, i32x4.dot_i16x8_s(v128.load8x8_s(x1 + <usize>k), wv));
        a2 = i32x4.add(a2, i32x4.dot_i16x8_s(v128.load8x8_s(x2 + <usize>k), wv));
        a3 = i32x4.add(a3, i32x4.dot_i16x8_s(v128.load8x8_s(x3 + <usize>k), wv));
      }
      let t0 = hsum_i32(a0), t1 = hsum_i32(a1), t2 = hsum_i32(a2), t3 = hsum_i32(a3);
      for (; k < K; k++) {
        const ws = <i32>load<i8>(w + <usize>k);
        t0 += <i32>load<i8>(x0 + <usize>k) * ws; t1 += <i32>load<i8>(x1 + <usize>k) * ws;
        t2 += <i32>load<i8>(x2 + <usize>k) * ws; t3 += <i32>load<i8>(x3 + <usize>k) * ws;
      }
      store<f32>(at(out, b * N + n), <f32>t0 * sn + bn);
      store<f32>(at(out, (b + 1) * N + n), <f32>t1 * sn + bn);
      store<f32>(at(out, (b + 2) * N + n), <f32>t2 * sn + bn);
      store<f32>(at(out, (b + 3) * N + n), <f32>t3 * sn + bn);
    }
    for (; b < B; b++) {
      const x = inp + <usize>(b * K);
      let a = i32x4.splat(0);
      let k = 0;
      for (; k + 8 <= K; k += 8) a = i32x4.add(a, i32x4.dot_i16x8_s(v128.load8x8_s(x + <usize>k), v128.load8x8_s(w + <usize>k)));
      let t = hsum_i32(a);
      for (; k < K; k++) t += <i32>load<i8>(x + <usize>k) * <i32>load<i8>(w + <usize>k);
      store<f32>(at(out, b * N + n), <f32>t * sn + bn);
    }
  }
}

// Sum of the four i32 lanes (exact: integer).
// @ts-ignore: decorator
@inline function hsum_i32(v: v128): i32 {
  return i32x4.extract_lane(v, 0) + i32x4.extract_lane(v, 1) + i32x4.extract_lane(v, 2) + i32x4.extract_lane(v, 3);
}
