// Int8 inference kernels: int8 weights (per-output-channel scale) times int8 activations (one scale
// per tensor), products summed exactly in i32 with i32x4.dot_i16x8_s (two i16 products per lane per
// instruction: 8 multiply-adds per dot), then dequantised to f32: f32(acc) * scale + bias, where
// scale = weight scale * input scale. Integer sums are exact, so the result does not depend on the
// order or the blocking; only the two rounded f32 operations of the dequantisation round. The two
// convolutions apply tanh (tanh_i8_v, the int8 models' cheaper one: activation.ts) and the 2x2
// average pooling before storing, as the f32 inference ones do (conv2d_direct.ts): c1 with pixels in
// the lanes, c3 with output channels in the lanes.
import { TAPS, tanh_pool_rows_v, tanh_pool_window_v, tap_offsets } from "./conv2d_direct";
import { at, store_channels } from "./simd";

/** Largest magnitude of a quantised value: symmetric [-127, 127], so -x is always representable. */
// @ts-ignore: decorator
@inline const QMAX: f32 = 127;

// inp (n) f32 -> out (n) i8 = clamp(nearest(inp * invScale), -127, 127), round half to even;
// overwrites out. 16 values per pass: four f32x4 -> four i32x4 -> two i16x8 -> one i8x16.
export function quantize_i8(out: usize, inp: usize, n: i32, invScale: f32): void {
  const s = f32x4.splat(invScale), lo = i8x16.splat(-127);
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const x = at(inp, i);
    // The conversion and both narrowings saturate (NaN converts to 0), so only the symmetric
    // range's lower end needs a clamp: one integer max on the bytes, not a float min and max per
    // vector (seven instructions each in V8).
    const q0 = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(x), s)));
    const q1 = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(x, 16), s)));
    const q2 = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(x, 32), s)));
    const q3 = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(x, 48), s)));
    v128.store(out + <usize>i, i8x16.max_s(i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(q0, q1), i16x8.narrow_i32x4_s(q2, q3)), lo));
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

// Bytes of conv2d_tanh_pool_pixels_i8's scratch: one image's channel pairs, ceil(C/2)*H*W i16x2.
export function conv2d_tanh_pool_pixels_i8_scratch(C: i32, H: i32, W: i32): i32 {
  return ((C + 1) >> 1) * H * W * 4;
}

// inp (C,H,W) i8 -> pairs (ceil(C/2),H,W) of i16 pairs: pairs[j,y,x] = (inp[2j,y,x], inp[2j+1,y,x]),
// the second 0 when 2j+1 = C. One 32-bit load then splats a pixel's two channels into every lane.
function pair_channels(pairs: usize, inp: usize, C: i32, H: i32, W: i32): void {
  const P = H * W;
  for (let j = 0; j < C; j += 2) {
    const a = inp + <usize>(j * P), b = a + <usize>P, d = pairs + (<usize>(j * P) << 1);
    const two = j + 1 < C;
    let i = 0;
    for (; i + 8 <= P; i += 8) {
      const u = v128.load8x8_s(a + <usize>i), v = two ? v128.load8x8_s(b + <usize>i) : i16x8.splat(0);
      v128.store(d + (<usize>i << 2), v128.shuffle<i16>(u, v, 0, 8, 1, 9, 2, 10, 3, 11));
      v128.store(d + (<usize>i << 2), v128.shuffle<i16>(u, v, 4, 12, 5, 13, 6, 14, 7, 15), 16);
    }
    for (; i < P; i++) {
      store<i16>(d + (<usize>i << 2), <i16>load<i8>(a + <usize>i));
      store<i16>(d + (<usize>i << 2), two ? <i16>load<i8>(b + <usize>i) : 0, 2);
    }
  }
}

// inp (B,C,H,W) i8, weight (ceil(C/2),K,K,OC,2) i16 (packConvWeightPixels: for every tap, each output
// channel's weights of the channel pair (2j, 2j+1)), scale (OC) f32 = weight scale * input scale, bias
// (OC) f32 -> out (B,OC,OH/2,OW/2) f32 = avgpool2x2(tanh(sum * scale + bias)): c3 and its pooling in one
// pass, an odd last row or column dropped. OC must be a multiple of 4. Output channels in the lanes:
// blocks of one 2x2 window x 8 channels (8 accumulators), then x 4; each i32x4.dot_i16x8_s adds two
// input channels' products. Integer sums are exact, so the result has the bits of the plain
// convolution (test/ref/int8.ts), tanh_i8_fwd and avgpool2d_fwd in turn. scratch:
// conv2d_tanh_pool_pixels_i8_scratch bytes.
export function conv2d_tanh_pool_pixels_i8(out: usize, scratch: usize, inp: usize, weight: usize, scale: usize, bias: usize,
  B: i32, C: i32, H: i32, W: i32, OC: i32, K: i32): void {
  const OH = H - K + 1, OW = W - K + 1, PH = OH >> 1, PW = OW >> 1, CP = (C + 1) >> 1, down = <usize>W << 2;
  const kStep = <usize>OC << 2, plane = <usize>(PH * PW) << 2, taps = tap_offsets(CP, H, W, K); // pair planes: 4 bytes a pixel
  for (let b = 0; b < B; b++) {
    pair_channels(scratch, inp + <usize>(b * C * H * W), C, H, W);
    for (let ph = 0; ph < PH; ph++) {
      for (let pw = 0; pw < PW; pw++) {
        const corner = scratch + (<usize>(2 * ph * W + 2 * pw) << 2); // the window's top-left pixel
        let oc = 0;
        for (; oc + 8 <= OC; oc += 8) {
          // Pixels (top-left, top-right, bottom-left, bottom-right) x channels oc..oc+3, oc+4..oc+7.
          let c00 = i32x4.splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
          let w = weight + (<usize>oc << 2);
          for (let t = TAPS; t < taps; t += 4, w += kStep) {
            const x = corner + <usize>load<u32>(t);
            const w0 = v128.load(w), w1 = v128.load(w, 16);
            const s0 = v128.load32_splat(x), s1 = v128.load32_splat(x, 4), s2 = v128.load32_splat(x + down), s3 = v128.load32_splat(x + down, 4);
            c00 = i32x4.add(c00, i32x4.dot_i16x8_s(s0, w0)); c01 = i32x4.add(c01, i32x4.dot_i16x8_s(s0, w1));
            c10 = i32x4.add(c10, i32x4.dot_i16x8_s(s1, w0)); c11 = i32x4.add(c11, i32x4.dot_i16x8_s(s1, w1));
            c20 = i32x4.add(c20, i32x4.dot_i16x8_s(s2, w0)); c21 = i32x4.add(c21, i32x4.dot_i16x8_s(s2, w1));
            c30 = i32x4.add(c30, i32x4.dot_i16x8_s(s3, w0)); c31 = i32x4.add(c31, i32x4.dot_i16x8_s(s3, w1));
          }
          const o = at(out, ((b * OC + oc) * PH + ph) * PW + pw);
          store_channels(o, dequant_tanh_pool_window(c00, c10, c20, c30, at(scale, oc), at(bias, oc)), plane);
          store_channels(o + 4 * plane, dequant_tanh_pool_window(c01, c11, c21, c31, at(scale, oc + 4), at(bias, oc + 4)), plane);
        }
        for (; oc < OC; oc += 4) {
          let c00 = i32x4.splat(0), c10 = c00, c20 = c00, c30 = c00;
          let w = weight + (<usize>oc << 2);
          for (let t = TAPS; t < taps; t += 4, w += kStep) {
            const x = corner + <usize>load<u32>(t), w0 = v128.load(w);
            c00 = i32x4.add(c00, i32x4.dot_i16x8_s(v128.load32_splat(x), w0)); c10 = i32x4.add(c10, i32x4.dot_i16x8_s(v128.load32_splat(x, 4), w0));
            c20 = i32x4.add(c20, i32x4.dot_i16x8_s(v128.load32_splat(x + down), w0)); c30 = i32x4.add(c30, i32x4.dot_i16x8_s(v128.load32_splat(x + down, 4), w0));
          }
          store_channels(at(out, ((b * OC + oc) * PH + ph) * PW + pw), dequant_tanh_pool_window(c00, c10, c20, c30, at(scale, oc), at(bias, oc)), plane);
        }
      }
    }
  }
}

// tanh_pool_window_v of four dequantised sums (top-left, top-right, bottom-left, bottom-right) of 4
// channels. Not inlined: one copy of its four tanh instead of three keeps the module smaller, for a
// call per 4 outputs.
function dequant_tanh_pool_window(tl: v128, tr: v128, bl: v128, br: v128, scale: usize, bias: usize): v128 {
  const s = v128.load(scale), c = v128.load(bias);
  return tanh_pool_window_v(dequant(tl, s, c), dequant(tr, s, c), dequant(bl, s, c), dequant(br, s, c), true);
}

// Bytes of conv2d_tanh_pool_rows_i8's scratch: one image's pair plane, C*H*W i16x2.
export function conv2d_tanh_pool_rows_i8_scratch(C: i32, H: i32, W: i32): i32 {
  return C * H * W * 4;
}

// conv2d_tanh_pool_rows_i8's narrow blocks: 2 channels x 2 rows x 4 pixels (2 pooled values), or
// with `four` x 4 rows (2 pooled rows, `next` bytes apart in out), or with `two` x 2 rows x 2 pixels
// (1 pooled); `four` and `two` are constants where it is inlined.
// @ts-ignore: decorator
@inline function pool_rows_narrow_i8(o0: usize, o1: usize, second: bool, x0: usize, p: usize, q: usize,
  s0: v128, c0: v128, s1: v128, c1: v128, taps: usize, down: usize, next: usize, four: bool, two: bool): void {
  let a0 = i32x4.splat(0), a1 = a0, a2 = a0, a3 = a0, e0 = a0, e1 = a0, e2 = a0, e3 = a0;
  for (let t = TAPS; t < taps; t += 4, p += 4, q += 4) {
    const x = x0 + <usize>load<u32>(t);
    const u0 = two ? v128.load64_zero(x) : v128.load(x), u1 = two ? v128.load64_zero(x + down) : v128.load(x + down);
    const g0 = v128.load32_splat(p), g1 = v128.load32_splat(q);
    a0 = i32x4.add(a0, i32x4.dot_i16x8_s(u0, g0)); a1 = i32x4.add(a1, i32x4.dot_i16x8_s(u1, g0));
    e0 = i32x4.add(e0, i32x4.dot_i16x8_s(u0, g1)); e1 = i32x4.add(e1, i32x4.dot_i16x8_s(u1, g1));
    if (four) {
      const u2 = v128.load(x + 2 * down), u3 = v128.load(x + 3 * down);
      a2 = i32x4.add(a2, i32x4.dot_i16x8_s(u2, g0)); a3 = i32x4.add(a3, i32x4.dot_i16x8_s(u3, g0));
      e2 = i32x4.add(e2, i32x4.dot_i16x8_s(u2, g1)); e3 = i32x4.add(e3, i32x4.dot_i16x8_s(u3, g1));
    }
  }
  // Rows 0-1 pooled in lanes 0-1 (and rows 2-3 in lanes 2-3 with `four`; else the lanes repeat).
  const pa = four ? dequant_tanh_pool_rows(a0, a2, a1, a3, s0, c0) : dequant_tanh_pool_rows(a0, a0, a1, a1, s0, c0);
  if (four) { v128.store64_lane(o0, pa, 0); v128.store64_lane(o0 + next, pa, 1); }
  else if (two) v128.store32_lane(o0, pa, 0); else v128.store64_lane(o0, pa, 0);
  if (!second) return;
  const pe = four ? dequant_tanh_pool_rows(e0, e2, e1, e3, s1, c1) : dequant_tanh_pool_rows(e0, e0, e1, e1, s1, c1);
  if (four) { v128.store64_lane(o1, pe, 0); v128.store64_lane(o1 + next, pe, 1); }
  else if (two) v128.store32_lane(o1, pe, 0); else v128.store64_lane(o1, pe, 0);
}

// The edge blocks (a 2-pixel column, with `two`; an odd last pooled row of the 4-pixel column): rare,
// so one copy, not inlined.
function pool_rows_edge_i8(o0: usize, o1: usize, second: bool, x: usize, p: usize, q: usize,
  s0: v128, c0: v128, s1: v128, c1: v128, taps: usize, down: usize, two: bool): void {
  pool_rows_narrow_i8(o0, o1, second, x, p, q, s0, c0, s1, c1, taps, down, 0, false, two);
}

// tanh_pool_rows_v of dequantised sums over two rows of 8 (a0 a1: top, b0 b1: the row below). Not
// inlined: one copy of its four tanh serves every block of the rows kernel.
function dequant_tanh_pool_rows(a0: v128, a1: v128, b0: v128, b1: v128, scale: v128, bias: v128): v128 {
  return tanh_pool_rows_v(dequant(a0, scale, bias), dequant(a1, scale, bias), dequant(b0, scale, bias), dequant(b1, scale, bias), true);
}

// inp (B,C,H,W) u8 (raw pixels; i8 when !unsigned) weight (OC,C,K,J,2) i16 (packConvWeightRows) scale
// (OC) bias (OC) f32 -> out (B,OC,OH/2,OW/2) f32 = avgpool2x2(tanh(sum * scale + bias)): c1 and its
// pooling in one pass. Pixels along the rows in the lanes: each image's pair plane (pair_rows) puts
// the two inputs of a weight pair (kw = 2j, 2j+1) in one 32-bit lane, so one dot multiplies 4
// neighbouring outputs by it. Blocks of 2 channels x 2 rows x 8 pixels (4 pooled), then the 4-pixel
// column two pooled rows at a time, then 2 pixels. The bits of the plain convolution
// (test/ref/int8.ts), tanh_i8_fwd and avgpool2d_fwd in turn (integer sums are exact). scratch:
// conv2d_tanh_pool_rows_i8_scratch bytes.
export function conv2d_tanh_pool_rows_i8(out: usize, scratch: usize, inp: usize, weight: usize, scale: usize, bias: usize,
  B: i32, C: i32, H: i32, W: i32, OC: i32, K: i32, unsigned: bool): void {
  const OH = H - K + 1, OW = W - K + 1, PH = OH >> 1, PW = OW >> 1, J = (K + 1) >> 1, R = C * K * J;
  const taps = tap_offsets(C, H, W, K, J, 2), down = <usize>W << 2; // J pairs of a kernel row, 2 pixels apart
  // Columns [0, ow4) in 8-pixel blocks, [ow4, ow2) in one 4-pixel block, [ow2, ow2 + 2) in a 2-pixel one.
  const ow4 = OW & ~7, ow2 = OW - ow4 >= 4 ? ow4 + 4 : ow4;
  for (let b = 0; b < B; b++) {
    const image = inp + <usize>(b * C * H * W);
    if (unsigned) pair_rows<u8>(scratch, image, C, H, W);
    else pair_rows<i8>(scratch, image, C, H, W);
    for (let oc = 0; oc < OC; oc += 2) {
      const second = oc + 1 < OC; // an odd last channel is computed twice and stored once
      const m1 = second ? oc + 1 : oc;
      const w0 = weight + (<usize>(oc * R) << 2), w1 = weight + (<usize>(m1 * R) << 2);
      const s0 = v128.load32_splat(at(scale, oc)), c0 = v128.load32_splat(at(bias, oc));
      const s1 = v128.load32_splat(at(scale, m1)), c1 = v128.load32_splat(at(bias, m1));
      for (let ph = 0; ph < PH; ph++) {
        const o0 = at(out, ((b * OC + oc) * PH + ph) * PW), o1 = at(o0, PH * PW);
        const top = scratch + (<usize>(2 * ph * W) << 2);
        for (let ow = 0; ow < ow4; ow += 8) {
          let a00 = i32x4.splat(0), a01 = a00, a10 = a00, a11 = a00; // channel oc: row 2ph (2 vectors), row 2ph+1
          let e00 = a00, e01 = a00, e10 = a00, e11 = a00; // channel oc+1
          const x0 = top + (<usize>ow << 2);
          let p = w0, q = w1;
          for (let t = TAPS; t < taps; t += 4, p += 4, q += 4) {
            const x = x0 + <usize>load<u32>(t);
            const u0 = v128.load(x), u1 = v128.load(x, 16), v0 = v128.load(x + down), v1 = v128.load(x + down, 16);
            const g0 = v128.load32_splat(p), g1 = v128.load32_splat(q); // (w[2j], w[2j+1]) in every lane
            a00 = i32x4.add(a00, i32x4.dot_i16x8_s(u0, g0)); a01 = i32x4.add(a01, i32x4.dot_i16x8_s(u1, g0));
            a10 = i32x4.add(a10, i32x4.dot_i16x8_s(v0, g0)); a11 = i32x4.add(a11, i32x4.dot_i16x8_s(v1, g0));
            e00 = i32x4.add(e00, i32x4.dot_i16x8_s(u0, g1)); e01 = i32x4.add(e01, i32x4.dot_i16x8_s(u1, g1));
            e10 = i32x4.add(e10, i32x4.dot_i16x8_s(v0, g1)); e11 = i32x4.add(e11, i32x4.dot_i16x8_s(v1, g1));
          }
          v128.store(at(o0, ow >> 1), dequant_tanh_pool_rows(a00, a01, a10, a11, s0, c0));
          if (second) v128.store(at(o1, ow >> 1), dequant_tanh_pool_rows(e00, e01, e10, e11, s1, c1));
        }
        if (ow2 + 2 <= OW) pool_rows_edge_i8(at(o0, ow2 >> 1), at(o1, ow2 >> 1), second, top + (<usize>ow2 << 2), w0, w1, s0, c0, s1, c1, taps, down, true);
      }
      if (ow4 < ow2) { // the 4-pixel column, two pooled rows at a time (8 accumulators); an odd last one alone
        for (let ph = 0; ph < PH; ph += 2) {
          const o0 = at(out, ((b * OC + oc) * PH + ph) * PW + (ow4 >> 1)), o1 = at(o0, PH * PW);
          const x = scratch + (<usize>(2 * ph * W + ow4) << 2);
          if (ph + 2 <= PH) pool_rows_narrow_i8(o0, o1, second, x, w0, w1, s0, c0, s1, c1, taps, down, <usize>PW << 2, true, false);
          else pool_rows_edge_i8(o0, o1, second, x, w0, w1, s0, c0, s1, c1, taps, down, false);
        }
      }
    }
  }
}

// inp (B,K) i8 weight (N,K) i8 scale (N) f32 bias (N) f32 -> out (B,N) f32 =
// (inp . weight^T) * scale + bias; overwrites out. Blocks of 2 weight rows x 4 batch rows: 6 loads
// (v128.load8x8_s widens 8 int8 to i16 as it loads) feed 8 dots; then the rows left one at a time.
export function dense_fwd_i8(out: usize, inp: usize, weight: usize, scale: usize, bias: usize, B: i32, K: i32, N: i32): void {
  let n = 0;
  for (; n + 2 <= N; n += 2) {
    const w0 = weight + <usize>(n * K), w1 = w0 + <usize>K;
    let b = 0;
    for (; b + 4 <= B; b += 4) {
      const x0 = inp + <usize>(b * K), x1 = x0 + <usize>K, x2 = x1 + <usize>K, x3 = x2 + <usize>K;
      let a0 = i32x4.splat(0), a1 = a0, a2 = a0, a3 = a0, e0 = a0, e1 = a0, e2 = a0, e3 = a0;
      let k = 0;
      for (; k + 8 <= K; k += 8) {
        const u = v128.load8x8_s(w0 + <usize>k), v = v128.load8x8_s(w1 + <usize>k);
        const y0 = v128.load8x8_s(x0 + <usize>k), y1 = v128.load8x8_s(x1 + <usize>k);
        const y2 = v128.load8x8_s(x2 + <usize>k), y3 = v128.load8x8_s(x3 + <usize>k);
        a0 = i32x4.add(a0, i32x4.dot_i16x8_s(y0, u)); e0 = i32x4.add(e0, i32x4.dot_i16x8_s(y0, v));
        a1 = i32x4.add(a1, i32x4.dot_i16x8_s(y1, u)); e1 = i32x4.add(e1, i32x4.dot_i16x8_s(y1, v));
        a2 = i32x4.add(a2, i32x4.dot_i16x8_s(y2, u)); e2 = i32x4.add(e2, i32x4.dot_i16x8_s(y2, v));
        a3 = i32x4.add(a3, i32x4.dot_i16x8_s(y3, u)); e3 = i32x4.add(e3, i32x4.dot_i16x8_s(y3, v));
      }
      dense_out4_i8(out, b, n, N, a0, a1, a2, a3, x0, w0, k, K, scale, bias);
      dense_out4_i8(out, b, n + 1, N, e0, e1, e2, e3, x0, w1, k, K, scale, bias);
    }
    for (; b < B; b++) {
      dense_out1_i8(out, inp, weight, scale, bias, b, n, K, N);
      dense_out1_i8(out, inp, weight, scale, bias, b, n + 1, K, N);
    }
  }
  if (n < N) for (let b = 0; b < B; b++) dense_out1_i8(out, inp, weight, scale, bias, b, n, K, N);
}

// Outputs (b..b+3, n) of dense_fwd_i8 from their lane sums a0..a3 over k < k0 (rows of 4 images
// from x0, K apart; weight row w), the k >= k0 tail added in scalars, dequantised.
function dense_out4_i8(out: usize, b: i32, n: i32, N: i32, a0: v128, a1: v128, a2: v128, a3: v128,
  x0: usize, w: usize, k0: i32, K: i32, scale: usize, bias: usize): void {
  const x1 = x0 + <usize>K, x2 = x1 + <usize>K, x3 = x2 + <usize>K;
  let t0 = hsum_i32(a0), t1 = hsum_i32(a1), t2 = hsum_i32(a2), t3 = hsum_i32(a3);
  for (let k = k0; k < K; k++) {
    const ws = <i32>load<i8>(w + <usize>k);
    t0 += <i32>load<i8>(x0 + <usize>k) * ws; t1 += <i32>load<i8>(x1 + <usize>k) * ws;
    t2 += <i32>load<i8>(x2 + <usize>k) * ws; t3 += <i32>load<i8>(x3 + <usize>k) * ws;
  }
  const sn = load<f32>(at(scale, n)), bn = load<f32>(at(bias, n));
  store<f32>(at(out, b * N + n), <f32>t0 * sn + bn);
  store<f32>(at(out, (b + 1) * N + n), <f32>t1 * sn + bn);
  store<f32>(at(out, (b + 2) * N + n), <f32>t2 * sn + bn);
  store<f32>(at(out, (b + 3) * N + n), <f32>t3 * sn + bn);
}

// Output (b, n) of dense_fwd_i8 alone.
function dense_out1_i8(out: usize, inp: usize, weight: usize, scale: usize, bias: usize, b: i32, n: i32, K: i32, N: i32): void {
  const x = inp + <usize>(b * K), w = weight + <usize>(n * K);
  let a = i32x4.splat(0);
  let k = 0;
  for (; k + 8 <= K; k += 8) a = i32x4.add(a, i32x4.dot_i16x8_s(v128.load8x8_s(x + <usize>k), v128.load8x8_s(w + <usize>k)));
  let t = hsum_i32(a);
  for (; k < K; k++) t += <i32>load<i8>(x + <usize>k) * <i32>load<i8>(w + <usize>k);
  store<f32>(at(out, b * N + n), <f32>t * load<f32>(at(scale, n)) + load<f32>(at(bias, n)));
}

// Sum of the four i32 lanes (exact: integer).
// @ts-ignore: decorator
@inline function hsum_i32(v: v128): i32 {
  return i32x4.extract_lane(v, 0) + i32x4.extract_lane(v, 1) + i32x4.extract_lane(v, 2) + i32x4.extract_lane(v, 3);
}
