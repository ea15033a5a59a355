// Convolutions without im2col: the same 'valid' cross-correlation as conv2d_fwd
// (conv2d.ts), read straight from the input. Each output element is the bias plus its products
// over k = (c, kh, kw) in conv2d_fwd's order, so these kernels give conv2d_fwd's bits
// (test/kernels/conv.test.ts checks it). Training runs them too; no pass writes patches (the
// weight gradients, conv2d_bwd_weight_rows and _packed, read the input).
//
// Two layouts of the work, for the two shapes of LeNet-5:
// - rows: output channels in pairs, pixels along an output row in the vector lanes (c1: 28-pixel
//   rows, 1 input channel).
// - pixels: output channels in the lanes (c3: its 10-pixel rows would leave lanes empty, but 16
//   output channels fill four vectors), with the weights transposed (conv2d_weight_t).
// The article's network takes each in the form that also applies tanh and the 2x2 average pooling
// before storing (conv2d_tanh_pool_rows, conv2d_tanh_pool_pixels): the convolution's own output is
// never written. The 1998 network (squash, trainable subsampling) takes the plain forms.
import { tanh_v } from "./activation";
import { block_sums_v } from "./avgpool";
import { at, madd, store_channels } from "./simd";

// Byte offsets of the taps (c, kh, kw) of a convolution from its window's first input, in the order
// every kernel sums them: a kernel's tap loop is then one flat loop reading an offset per tap, not
// three nested loops (or a flat loop's counters), which V8 compiles to more instructions than the
// products themselves (c3's kernels: 10% faster). Filled by tap_offsets on every call (the rows
// kernels: for each channel pair, with the pair's weights beside each offset); one table per module
// instance (worker threads each have their own).
// @ts-ignore: decorator
@inline const MAX_TAPS = 4096;
export const TAPS = memory.data(MAX_TAPS * 4, 16);

// Fills TAPS for input planes H x W of 4-byte values and returns the end of its entries: K rows of
// `cols` taps, `step` values apart (int8.ts's c1 reads pairs: K = 5, cols 3, step 2). Each tap's
// entry is its offset (u32); given weight rows w0 and w1 (the rows kernels: an output channel pair,
// 4 bytes a tap), it is 12 bytes: the offset, then the tap's weight at w0 and at w1, so one pointer
// walks offsets and weights alike (with two more pointers for the weights, V8 ran out of registers
// in the tap loop). Traps beyond MAX_TAPS words.
export function tap_offsets(C: i32, H: i32, W: i32, K: i32, cols: i32 = K, step: i32 = 1, w0: usize = 0, w1: usize = 0): usize {
  const entry: usize = w0 ? 12 : 4;
  if (C * K * cols * <i32>(entry >> 2) > MAX_TAPS) unreachable();
  let t = TAPS, r: usize = 0;
  for (let c = 0; c < C; c++) {
    for (let kh = 0; kh < K; kh++) {
      for (let i = 0; i < cols; i++, t += entry, r += 4) {
        store<u32>(t, ((c * H + kh) * W + i * step) << 2);
        if (w0) { store<u32>(t, load<u32>(w0 + r), 4); store<u32>(t, load<u32>(w1 + r), 8); }
      }
    }
  }
  return t;
}

// tap_offsets for the rows kernels' output channels oc and oc + 1 (for an odd last channel, its own
// weights twice); returns the end of the entries.
// @ts-ignore: decorator
@inline function tap_pair(weight: usize, oc: i32, C: i32, H: i32, W: i32, K: i32, OC: i32): usize {
  const R = C * K * K, w0 = at(weight, oc * R);
  return tap_offsets(C, H, W, K, K, 1, w0, oc + 1 < OC ? at(w0, R) : w0);
}

// inp (B,C,H,W) weight (OC,C,K,K) bias (OC) -> out (B,OC,OH,OW); overwrites out. Blocks of 2
// channels x 16, 12 or 4 pixels of a row; the last OW % 4 pixels one at a time.
export function conv2d_fwd_rows(out: usize, inp: usize, weight: usize, bias: usize,
  B: i32, C: i32, H: i32, W: i32, OC: i32, K: i32): void {
  const OH = H - K + 1, OW = W - K + 1, P = OH * OW;
  for (let oc = 0; oc < OC; oc += 2) { // channel pairs outermost: each pair's table filled once
    const second = oc + 1 < OC; // an odd last channel is computed twice and stored once
    const tp = TAPS, te = tap_pair(weight, oc, C, H, W, K, OC); // this pair's taps and weights
    for (let b = 0; b < B; b++) {
      const b0 = v128.load32_splat(at(bias, oc)), b1 = v128.load32_splat(second ? at(bias, oc + 1) : at(bias, oc));
      for (let oh = 0; oh < OH; oh++) {
        const o0 = at(out, ((b * OC + oc) * OH + oh) * OW), o1 = at(o0, P);
        const top = at(inp, (b * C * H + oh) * W);
        let ow = 0;
        for (; ow + 16 <= OW; ow += 16) {
          let c00 = b0, c01 = b0, c02 = b0, c03 = b0, c10 = b1, c11 = b1, c12 = b1, c13 = b1;
          const x0 = at(top, ow);
          for (let t = tp; t < te; t += 12) {
            const x = x0 + <usize>load<u32>(t);
            const v0 = v128.load(x), v1 = v128.load(x, 16), v2 = v128.load(x, 32), v3 = v128.load(x, 48);
            const s0 = v128.load32_splat(t, 4), s1 = v128.load32_splat(t, 8);
            c00 = madd(s0, v0, c00); c01 = madd(s0, v1, c01); c02 = madd(s0, v2, c02); c03 = madd(s0, v3, c03);
            c10 = madd(s1, v0, c10); c11 = madd(s1, v1, c11); c12 = madd(s1, v2, c12); c13 = madd(s1, v3, c13);
          }
          const r0 = at(o0, ow), r1 = at(o1, ow);
          v128.store(r0, c00); v128.store(r0, c01, 16); v128.store(r0, c02, 32); v128.store(r0, c03, 48);
          if (second) { v128.store(r1, c10); v128.store(r1, c11, 16); v128.store(r1, c12, 32); v128.store(r1, c13, 48); }
        }
        for (; ow + 12 <= OW; ow += 12) {
          let c00 = b0, c01 = b0, c02 = b0, c10 = b1, c11 = b1, c12 = b1;
          const x0 = at(top, ow);
          for (let t = tp; t < te; t += 12) {
            const x = x0 + <usize>load<u32>(t);
            const v0 = v128.load(x), v1 = v128.load(x, 16), v2 = v128.load(x, 32);
            const s0 = v128.load32_splat(t, 4), s1 = v128.load32_splat(t, 8);
            c00 = madd(s0, v0, c00); c01 = madd(s0, v1, c01); c02 = madd(s0, v2, c02);
            c10 = madd(s1, v0, c10); c11 = madd(s1, v1, c11); c12 = madd(s1, v2, c12);
          }
          const r0 = at(o0, ow), r1 = at(o1, ow);
          v128.store(r0, c00); v128.store(r0, c01, 16); v128.store(r0, c02, 32);
          if (second) { v128.store(r1, c10); v128.store(r1, c11, 16); v128.store(r1, c12, 32); }
        }
        for (; ow + 4 <= OW; ow += 4) rows_narrow(at(o0, ow), at(o1, ow), second, at(top, ow), tp, te, b0, b1, false);
        for (; ow < OW; ow++) rows_narrow(at(o0, ow), at(o1, ow), second, at(top, ow), tp, te, b0, b1, true);
      }
    }
  }
}

// conv2d_fwd_rows' narrow blocks: 2 channels x 4 pixels, or with `one` (a constant where it is
// inlined, so each form compiles without the other) x 1 pixel, the vector code on lane 0 of a
// splat: the same sums.
// @ts-ignore: decorator
@inline function rows_narrow(o0: usize, o1: usize, second: bool, x0: usize, tp: usize, te: usize, b0: v128, b1: v128,
  one: bool): void {
  let c00 = b0, c10 = b1;
  for (let t = tp; t < te; t += 12) {
    const x = x0 + <usize>load<u32>(t);
    const v0 = one ? v128.load32_splat(x) : v128.load(x);
    c00 = madd(v128.load32_splat(t, 4), v0, c00);
    c10 = madd(v128.load32_splat(t, 8), v0, c10);
  }
  if (one) {
    v128.store32_lane(o0, c00, 0);
    if (second) v128.store32_lane(o1, c10, 0);
  } else {
    v128.store(o0, c00);
    if (second) v128.store(o1, c10);
  }
}

// conv2d_tanh_pool_rows' narrow blocks: 2 channels x 2 rows x 4 pixels (2 pooled values), or with
// `four` x 4 rows (two pooled rows, `next` bytes apart in out), or with `two` x 2 rows x 2 pixels (1
// pooled); `four` and `two` are constants where it is inlined. With `keep`, tanh's values are also
// stored at k0 and k1 (rows `row` bytes apart).
// @ts-ignore: decorator
@inline function pool_rows_narrow(o0: usize, o1: usize, second: bool, x0: usize, tp: usize, te: usize, b0: v128, b1: v128,
  down: usize, next: usize, four: bool, two: bool,
  keep: bool, k0: usize, k1: usize, row: usize): void {
  let a0 = b0, a1 = b0, a2 = b0, a3 = b0, e0 = b1, e1 = b1, e2 = b1, e3 = b1;
  for (let t = tp; t < te; t += 12) {
    const x = x0 + <usize>load<u32>(t);
    const u0 = two ? v128.load64_zero(x) : v128.load(x), u1 = two ? v128.load64_zero(x + down) : v128.load(x + down);
    const s0 = v128.load32_splat(t, 4), s1 = v128.load32_splat(t, 8);
    a0 = madd(s0, u0, a0); a1 = madd(s0, u1, a1); e0 = madd(s1, u0, e0); e1 = madd(s1, u1, e1);
    if (four) {
      const u2 = v128.load(x + 2 * down), u3 = v128.load(x + 3 * down);
      a2 = madd(s0, u2, a2); a3 = madd(s0, u3, a3); e2 = madd(s1, u2, e2); e3 = madd(s1, u3, e3);
    }
  }
  pool_rows_store(o0, a0, a1, a2, a3, next, four, two, keep, k0, row);
  if (second) pool_rows_store(o1, e0, e1, e2, e3, next, four, two, keep, k1, row);
}

// pool_rows_narrow's epilogue for one channel: rows 0-1 pooled in lanes 0-1 (and rows 2-3 in lanes 2-3
// with `four`; else the lanes repeat); with `keep`, each row's tanh stored at k first.
// @ts-ignore: decorator
@inline function pool_rows_store(o: usize, a0: v128, a1: v128, a2: v128, a3: v128, next: usize,
  four: bool, two: bool, keep: bool, k: usize, row: usize): void {
  const t0 = tanh_v(a0), t1 = tanh_v(a1), t2 = four ? tanh_v(a2) : t0, t3 = four ? tanh_v(a3) : t1;
  if (keep) {
    if (two) { v128.store64_lane(k, t0, 0); v128.store64_lane(k + row, t1, 0); }
    else { v128.store(k, t0); v128.store(k + row, t1); }
    if (four) { v128.store(k + 2 * row, t2); v128.store(k + 3 * row, t3); }
  }
  const pooled = pool_rows_v(t0, t2, t1, t3);
  if (four) { v128.store64_lane(o, pooled, 0); v128.store64_lane(o + next, pooled, 1); }
  else if (two) v128.store32_lane(o, pooled, 0); else v128.store64_lane(o, pooled, 0);
}

// The edge blocks (a 2-pixel column, with `two`; an odd last pooled row of the 4-pixel column): rare,
// so one copy, not inlined (c1's 4-pixel column runs the inlined `four` form on every row pair).
function pool_rows_edge(o0: usize, o1: usize, second: bool, x: usize, tp: usize, te: usize, b0: v128, b1: v128,
  down: usize, two: bool, keep: bool, k0: usize, k1: usize, row: usize): void {
  pool_rows_narrow(o0, o1, second, x, tp, te, b0, b1, down, 0, false, two, keep, k0, k1, row);
}

// avgpool2x2 of two rows of 8 values (a0 a1: top, b0 b1: the row below), in avgpool2d_fwd's order.
// @ts-ignore: decorator
@inline function pool_rows_v(a0: v128, a1: v128, b0: v128, b1: v128): v128 {
  return f32x4.mul(block_sums_v(a0, a1, b0, b1), f32x4.splat(0.25));
}

// avgpool2x2(tanh) of two rows of 8 values (a0 a1: top, b0 b1: the row below), in avgpool2d_fwd's
// order: the rows kernels' epilogue (int8.ts's too, on dequantised sums).
// @ts-ignore: decorator
@inline export function tanh_pool_rows_v(a0: v128, a1: v128, b0: v128, b1: v128, i8: bool = false): v128 {
  return pool_rows_v(tanh_v(a0, i8), tanh_v(a1, i8), tanh_v(b0, i8), tanh_v(b1, i8));
}

// avgpool2x2(tanh) of one 2x2 window, 4 channels in the lanes: the values at its top-left,
// top-right, bottom-left and bottom-right pixels, ((tl + tr) + (bl + br)) * 0.25 as avgpool2d_fwd
// sums them. The pixels kernels' epilogue (int8.ts's too).
// @ts-ignore: decorator
@inline export function tanh_pool_window_v(tl: v128, tr: v128, bl: v128, br: v128, i8: bool = false): v128 {
  return f32x4.mul(f32x4.add(f32x4.add(tanh_v(tl, i8), tanh_v(tr, i8)), f32x4.add(tanh_v(bl, i8), tanh_v(br, i8))), f32x4.splat(0.25));
}

// inp (B,C,H,W) weight (OC,C,K,K) bias (OC) -> out (B,OC,OH/2,OW/2) = avgpool2x2(tanh(conv(inp))):
// c1 and its pooling in one pass, the convolution's output never stored (an odd last row or column
// is dropped, as avgpool2d_fwd drops it). Blocks of 2 channels x 2 rows x 8 pixels (4 pooled); then
// x 4 rows x 4 pixels (2 x 2 pooled); then x 2 rows x 2 pixels (1 pooled). The same bits as
// conv2d_fwd, tanh_fwd and avgpool2d_fwd in turn.
export function conv2d_tanh_pool_rows(out: usize, inp: usize, weight: usize, bias: usize,
  B: i32, C: i32, H: i32, W: i32, OC: i32, K: i32): void {
  tanh_pool_rows(out, 0, inp, weight, bias, B, C, H, W, OC, K, false);
}

// conv2d_tanh_pool_rows that also keeps tanh(conv(inp)) in act (B,OC,OH,OW), which training's
// backward pass reads: c1's forward pass in one pass. OH and OW must be even (else it traps). In the whole module
// only: this second copy of the kernel would cost the inference bundle 1.4 KB gzipped (a run-time
// flag in one kernel instead slowed inference by 2%).
export function conv2d_tanh_pool_rows_keep(out: usize, act: usize, inp: usize, weight: usize, bias: usize,
  B: i32, C: i32, H: i32, W: i32, OC: i32, K: i32): void {
  tanh_pool_rows(out, act, inp, weight, bias, B, C, H, W, OC, K, true);
}

// @ts-ignore: decorator
@inline function tanh_pool_rows(out: usize, act: usize, inp: usize, weight: usize, bias: usize,
  B: i32, C: i32, H: i32, W: i32, OC: i32, K: i32, keep: bool): void {
  const OH = H - K + 1, OW = W - K + 1, PH = OH >> 1, PW = OW >> 1, down = <usize>W << 2;
  if (keep && ((OH | OW) & 1)) unreachable(); // act's last row or column would be left unwritten
  const row = <usize>OW << 2, plane = <usize>(OH * OW) << 2; // act's rows and channels, in bytes
  // Columns [0, ow4) in 8-pixel blocks, [ow4, ow2) in one 4-pixel block, [ow2, ow2 + 2) in a 2-pixel one.
  const ow4 = OW & ~7, ow2 = OW - ow4 >= 4 ? ow4 + 4 : ow4;
  for (let oc = 0; oc < OC; oc += 2) { // channel pairs outermost: each pair's table filled once
    const second = oc + 1 < OC; // an odd last channel is computed twice and stored once
    const tp = TAPS, te = tap_pair(weight, oc, C, H, W, K, OC); // this pair's taps and weights
    for (let b = 0; b < B; b++) {
      const b0 = v128.load32_splat(at(bias, oc)), b1 = v128.load32_splat(second ? at(bias, oc + 1) : at(bias, oc));
      const k0 = at(act, (b * OC + oc) * OH * OW); // act of this channel pair: k0, k0 + plane
      for (let ph = 0; ph < PH; ph++) {
        const o0 = at(out, ((b * OC + oc) * PH + ph) * PW), o1 = at(o0, PH * PW);
        const top = at(inp, (b * C * H + 2 * ph) * W);
        for (let ow = 0; ow < ow4; ow += 8) {
          let a00 = b0, a01 = b0, a10 = b0, a11 = b0; // channel oc: row 2ph (2 vectors), row 2ph+1
          let e00 = b1, e01 = b1, e10 = b1, e11 = b1; // channel oc+1
          const x0 = at(top, ow);
          for (let t = tp; t < te; t += 12) {
            const x = x0 + <usize>load<u32>(t);
            const u0 = v128.load(x), u1 = v128.load(x, 16), v0 = v128.load(x + down), v1 = v128.load(x + down, 16);
            const s0 = v128.load32_splat(t, 4), s1 = v128.load32_splat(t, 8);
            a00 = madd(s0, u0, a00); a01 = madd(s0, u1, a01); a10 = madd(s0, v0, a10); a11 = madd(s0, v1, a11);
            e00 = madd(s1, u0, e00); e01 = madd(s1, u1, e01); e10 = madd(s1, v0, e10); e11 = madd(s1, v1, e11);
          }
          if (keep) {
            const ka = k0 + (<usize>(2 * ph * OW + ow) << 2);
            v128.store(at(o0, ow >> 1), keep_pool_rows_v(ka, row, a00, a01, a10, a11));
            if (second) v128.store(at(o1, ow >> 1), keep_pool_rows_v(ka + plane, row, e00, e01, e10, e11));
          } else {
            v128.store(at(o0, ow >> 1), tanh_pool_rows_v(a00, a01, a10, a11));
            if (second) v128.store(at(o1, ow >> 1), tanh_pool_rows_v(e00, e01, e10, e11));
          }
        }
        if (ow2 + 2 <= OW) {
          const ka = k0 + (<usize>(2 * ph * OW + ow2) << 2);
          pool_rows_edge(at(o0, ow2 >> 1), at(o1, ow2 >> 1), second, at(top, ow2), tp, te, b0, b1, down, true, keep, ka, ka + plane, row);
        }
      }
      // The 4-pixel column at ow4, two pooled rows at a time: 8 accumulators, as in the wide blocks
      // (one pooled row's 4 would leave the engine waiting on them); an odd last pooled row alone.
      if (ow4 < ow2) {
        let ph = 0;
        for (; ph < PH; ph += 2) {
          const o0 = at(out, ((b * OC + oc) * PH + ph) * PW + (ow4 >> 1)), o1 = at(o0, PH * PW);
          const x = at(inp, (b * C * H + 2 * ph) * W + ow4);
          const ka = k0 + (<usize>(2 * ph * OW + ow4) << 2);
          if (ph + 2 <= PH) pool_rows_narrow(o0, o1, second, x, tp, te, b0, b1, down, <usize>PW << 2, true, false, keep, ka, ka + plane, row);
          else pool_rows_edge(o0, o1, second, x, tp, te, b0, b1, down, false, keep, ka, ka + plane, row);
        }
      }
    }
  }
}

// tanh of a wide block's two rows of 8 sums, stored at k (the row below `row` bytes on), then pooled.
// @ts-ignore: decorator
@inline function keep_pool_rows_v(k: usize, row: usize, a0: v128, a1: v128, b0: v128, b1: v128): v128 {
  const t0 = tanh_v(a0), t1 = tanh_v(a1), u0 = tanh_v(b0), u1 = tanh_v(b1);
  v128.store(k, t0); v128.store(k, t1, 16); v128.store(k + row, u0); v128.store(k + row, u1, 16);
  return pool_rows_v(t0, t1, u0, u1);
}

// weight (OC, R) -> weightT (R, OC): conv2d_fwd_pixels' layout, with a row's OC channels contiguous.
// 4x4 tiles through registers (4 loads, 8 shuffles, 4 stores); scalar edges.
export function conv2d_weight_t(weightT: usize, weight: usize, OC: i32, R: i32): void {
  const rowBytes = <usize>R << 2, step = <usize>OC << 2;
  let oc = 0;
  for (; oc + 4 <= OC; oc += 4) {
    const s0 = at(weight, oc * R), s1 = s0 + rowBytes, s2 = s1 + rowBytes, s3 = s2 + rowBytes;
    let r = 0;
    for (; r + 4 <= R; r += 4) {
      const a = v128.load(at(s0, r)), b = v128.load(at(s1, r)), c = v128.load(at(s2, r)), d = v128.load(at(s3, r));
      const ab0 = v128.shuffle<f32>(a, b, 0, 4, 1, 5), ab1 = v128.shuffle<f32>(a, b, 2, 6, 3, 7);
      const cd0 = v128.shuffle<f32>(c, d, 0, 4, 1, 5), cd1 = v128.shuffle<f32>(c, d, 2, 6, 3, 7);
      const o = at(weightT, r * OC + oc); // row r of weightT, channels oc..oc+3
      v128.store(o, v128.shuffle<f32>(ab0, cd0, 0, 1, 4, 5));
      v128.store(o + step, v128.shuffle<f32>(ab0, cd0, 2, 3, 6, 7));
      v128.store(o + 2 * step, v128.shuffle<f32>(ab1, cd1, 0, 1, 4, 5));
      v128.store(o + 3 * step, v128.shuffle<f32>(ab1, cd1, 2, 3, 6, 7));
    }
    for (; r < R; r++) for (let i = 0; i < 4; i++) store<f32>(at(weightT, r * OC + oc + i), load<f32>(at(weight, (oc + i) * R + r)));
  }
  for (; oc < OC; oc++) for (let r = 0; r < R; r++) store<f32>(at(weightT, r * OC + oc), load<f32>(at(weight, oc * R + r)));
}

// inp (B,C,H,W) weightT (C*K*K, OC) from conv2d_weight_t, bias (OC) -> out (B,OC,OH,OW); overwrites
// out. OC must be a multiple of 4. Blocks of 2 pixels (anywhere in the plane) x 16 channels, then
// x 4; an odd last pixel is computed twice and stored once.
export function conv2d_fwd_pixels(out: usize, inp: usize, weightT: usize, bias: usize,
  B: i32, C: i32, H: i32, W: i32, OC: i32, K: i32): void {
  const OH = H - K + 1, OW = W - K + 1, P = OH * OW;
  const kStep = <usize>OC << 2, plane = <usize>P << 2, taps = tap_offsets(C, H, W, K);
  for (let b = 0; b < B; b++) {
    const img = at(inp, b * C * H * W);
    for (let p = 0; p < P; p += 2) {
      const q = p + 1 < P ? p + 1 : p;
      const in0 = at(img, (p / OW) * W + p % OW), in1 = at(img, (q / OW) * W + q % OW);
      let oc = 0;
      for (; oc + 16 <= OC; oc += 16) {
        let c00 = v128.load(at(bias, oc)), c01 = v128.load(at(bias, oc + 4)), c02 = v128.load(at(bias, oc + 8)), c03 = v128.load(at(bias, oc + 12));
        let c10 = c00, c11 = c01, c12 = c02, c13 = c03;
        let w = at(weightT, oc);
        for (let t = TAPS; t < taps; t += 4, w += kStep) {
          const o = <usize>load<u32>(t), s0 = v128.load32_splat(in0 + o), s1 = v128.load32_splat(in1 + o);
          const w0 = v128.load(w), w1 = v128.load(w, 16), w2 = v128.load(w, 32), w3 = v128.load(w, 48);
          c00 = madd(s0, w0, c00); c01 = madd(s0, w1, c01); c02 = madd(s0, w2, c02); c03 = madd(s0, w3, c03);
          c10 = madd(s1, w0, c10); c11 = madd(s1, w1, c11); c12 = madd(s1, w2, c12); c13 = madd(s1, w3, c13);
        }
        const o0 = at(out, (b * OC + oc) * P + p), o1 = at(out, (b * OC + oc) * P + q);
        store_channels(o0, c00, plane); store_channels(o0 + 4 * plane, c01, plane);
        store_channels(o0 + 8 * plane, c02, plane); store_channels(o0 + 12 * plane, c03, plane);
        if (q != p) {
          store_channels(o1, c10, plane); store_channels(o1 + 4 * plane, c11, plane);
          store_channels(o1 + 8 * plane, c12, plane); store_channels(o1 + 12 * plane, c13, plane);
        }
      }
      for (; oc < OC; oc += 4) {
        let c00 = v128.load(at(bias, oc)), c10 = c00;
        let w = at(weightT, oc);
        for (let t = TAPS; t < taps; t += 4, w += kStep) {
          const o = <usize>load<u32>(t), w0 = v128.load(w);
          c00 = madd(v128.load32_splat(in0 + o), w0, c00);
          c10 = madd(v128.load32_splat(in1 + o), w0, c10);
        }
        store_channels(at(out, (b * OC + oc) * P + p), c00, plane);
        if (q != p) store_channels(at(out, (b * OC + oc) * P + q), c10, plane);
      }
    }
  }
}

// inp (B,C,H,W) weightT (C*K*K, OC) from conv2d_weight_t, bias (OC) -> out (B,OC,OH/2,OW/2) =
// avgpool2x2(tanh(conv(inp))): c3 and its pooling in one pass (an odd last row or column dropped,
// as avgpool2d_fwd drops it). OC must be a multiple of 4. Blocks of one 2x2 window (4 pixels) x 8
// channels, then x 4; the same bits as conv2d_fwd, tanh_fwd and avgpool2d_fwd one after another.
export function conv2d_tanh_pool_pixels(out: usize, inp: usize, weightT: usize, bias: usize,
  B: i32, C: i32, H: i32, W: i32, OC: i32, K: i32): void {
  const OH = H - K + 1, OW = W - K + 1, PH = OH >> 1, PW = OW >> 1, down = <usize>W << 2;
  const kStep = <usize>OC << 2, plane = <usize>(PH * PW) << 2, taps = tap_offsets(C, H, W, K);
  for (let b = 0; b < B; b++) {
    const img = at(inp, b * C * H * W);
    for (let ph = 0; ph < PH; ph++) {
      for (let pw = 0; pw < PW; pw++) {
        const corner = at(img, 2 * ph * W + 2 * pw); // the window's top-left input pixel
        let oc = 0;
        for (; oc + 8 <= OC; oc += 8) {
          // Pixels (top-left, top-right, bottom-left, bottom-right) x channels oc..oc+3, oc+4..oc+7.
          let c00 = v128.load(at(bias, oc)), c01 = v128.load(at(bias, oc + 4));
          let c10 = c00, c11 = c01, c20 = c00, c21 = c01, c30 = c00, c31 = c01;
          let w = at(weightT, oc);
          for (let t = TAPS; t < taps; t += 4, w += kStep) {
            const x = corner + <usize>load<u32>(t);
            const w0 = v128.load(w), w1 = v128.load(w, 16);
            const s0 = v128.load32_splat(x), s1 = v128.load32_splat(x, 4), s2 = v128.load32_splat(x + down), s3 = v128.load32_splat(x + down, 4);
            c00 = madd(s0, w0, c00); c01 = madd(s0, w1, c01); c10 = madd(s1, w0, c10); c11 = madd(s1, w1, c11);
            c20 = madd(s2, w0, c20); c21 = madd(s2, w1, c21); c30 = madd(s3, w0, c30); c31 = madd(s3, w1, c31);
          }
          const o = at(out, ((b * OC + oc) * PH + ph) * PW + pw);
          store_channels(o, tanh_pool_window_v(c00, c10, c20, c30), plane);
          store_channels(o + 4 * plane, tanh_pool_window_v(c01, c11, c21, c31), plane);
        }
        for (; oc < OC; oc += 4) {
          let c00 = v128.load(at(bias, oc)), c10 = c00, c20 = c00, c30 = c00;
          let w = at(weightT, oc);
          for (let t = TAPS; t < taps; t += 4, w += kStep) {
            const x = corner + <usize>load<u32>(t), w0 = v128.load(w);
            c00 = madd(v128.load32_splat(x), w0, c00); c10 = madd(v128.load32_splat(x, 4), w0, c10);
            c20 = madd(v128.load32_splat(x + down), w0, c20); c30 = madd(v128.load32_splat(x + down, 4), w0, c30);
          }
          const o = at(out, ((b * OC + oc) * PH + ph) * PW + pw);
          store_channels(o, tanh_pool_window_v(c00, c10, c20, c30), plane);
        }
      }
    }
  }
}
