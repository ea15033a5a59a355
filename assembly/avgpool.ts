// 2x2 average pooling, stride 2, f32 NCHW. OH = H/2, OW = W/2 rounded down (Keras 'valid').
import { tanh_grad, tanh_grad_v } from "./activation";
import { at } from "./simd";

/**
 * The sums of the four 2x2 blocks whose top-left corners are columns 2ow, 2ow+2, 2ow+4, 2ow+6 of
 * rows r0 and r1 below it: 8 inputs per row give 4 sums, split into even and odd columns, each
 * (top pair) + (bottom pair).
 */
// @ts-ignore: decorator
@inline export function block_sums(r0: usize, r1: usize, ow: i32): v128 {
  return block_sums_v(v128.load(at(r0, 2 * ow)), v128.load(at(r0, 2 * ow + 4)), v128.load(at(r1, 2 * ow)), v128.load(at(r1, 2 * ow + 4)));
}

/** block_sums of values in registers: a0 a1 are 8 values of the top row, b0 b1 of the row below. */
// @ts-ignore: decorator
@inline export function block_sums_v(a0: v128, a1: v128, b0: v128, b1: v128): v128 {
  const top = f32x4.add(v128.shuffle<f32>(a0, a1, 0, 2, 4, 6), v128.shuffle<f32>(a0, a1, 1, 3, 5, 7));
  const bot = f32x4.add(v128.shuffle<f32>(b0, b1, 0, 2, 4, 6), v128.shuffle<f32>(b0, b1, 1, 3, 5, 7));
  return f32x4.add(top, bot);
}

/** The same sum for one block, in the same order (the scalar tails). */
// @ts-ignore: decorator
@inline export function block_sum(r0: usize, r1: usize, ow: i32): f32 {
  return (load<f32>(at(r0, 2 * ow)) + load<f32>(at(r0, 2 * ow + 1))) + (load<f32>(at(r1, 2 * ow)) + load<f32>(at(r1, 2 * ow + 1)));
}

// inp (B,C,H,W) -> out (B,C,OH,OW); overwrites out.
export function avgpool2d_fwd(out: usize, inp: usize, B: i32, C: i32, H: i32, W: i32): void {
  const OH = H >> 1, OW = W >> 1;
  const quarter = f32x4.splat(0.25);
  for (let p = 0; p < B * C; p++) {
    for (let oh = 0; oh < OH; oh++) {
      const r0 = at(inp, (p * H + 2 * oh) * W);
      const r1 = at(r0, W);
      const o = at(out, (p * OH + oh) * OW);
      let ow = 0;
      for (; ow + 4 <= OW; ow += 4) v128.store(at(o, ow), f32x4.mul(block_sums(r0, r1, ow), quarter));
      for (; ow < OW; ow++) store<f32>(at(o, ow), block_sum(r0, r1, ow) * 0.25);
    }
  }
}

// dout (B,C,OH,OW) -> dinp (B,C,H,W); overwrites dinp (rows/columns dropped by the rounding get 0).
export function avgpool2d_bwd(dinp: usize, dout: usize, B: i32, C: i32, H: i32, W: i32): void {
  pool_bwd(dinp, dout, 0, B, C, H, W, false);
}

// dout (B,C,OH,OW) of a 2x2 average pooling of tanh's output `out` (B,C,H,W) -> dinp (B,C,H,W) =
// tanh_bwd(avgpool2d_bwd(dout), out): both backward steps in one pass, with their bits (each value
// is dout * 0.25, then times 1 - out^2); overwrites dinp.
export function avgpool2d_tanh_bwd(dinp: usize, dout: usize, out: usize, B: i32, C: i32, H: i32, W: i32): void {
  pool_bwd(dinp, dout, out, B, C, H, W, true);
}

// Both: each dout value * 0.25 to its block's 4 inputs, and with `tanh` (a constant where inlined)
// through tanh's backward step at `out`, the same place in tanh's output.
// @ts-ignore: decorator
@inline function pool_bwd(dinp: usize, dout: usize, out: usize, B: i32, C: i32, H: i32, W: i32, tanh: bool): void {
  const OH = H >> 1, OW = W >> 1;
  const quarter = f32x4.splat(0.25);
  const y = out - dinp; // bytes from a dinp value to tanh's output at its place
  for (let p = 0; p < B * C; p++) {
    for (let oh = 0; oh < OH; oh++) {
      const g = at(dout, (p * OH + oh) * OW);
      const r0 = at(dinp, (p * H + 2 * oh) * W), r1 = at(r0, W);
      let ow = 0;
      // 4 gradients fan out to 8 columns in each of the two rows: [g0 g0 g1 g1] [g2 g2 g3 g3].
      for (; ow + 4 <= OW; ow += 4) {
        const v = f32x4.mul(v128.load(at(g, ow)), quarter);
        const lo = v128.shuffle<f32>(v, v, 0, 0, 1, 1), hi = v128.shuffle<f32>(v, v, 2, 2, 3, 3);
        fan_v(at(r0, 2 * ow), lo, y, tanh); fan_v(at(r0, 2 * ow + 4), hi, y, tanh);
        fan_v(at(r1, 2 * ow), lo, y, tanh); fan_v(at(r1, 2 * ow + 4), hi, y, tanh);
      }
      for (; ow < OW; ow++) {
        const v = load<f32>(at(g, ow)) * 0.25;
        fan(at(r0, 2 * ow), v, y, tanh); fan(at(r0, 2 * ow + 1), v, y, tanh);
        fan(at(r1, 2 * ow), v, y, tanh); fan(at(r1, 2 * ow + 1), v, y, tanh);
      }
      if (W & 1) { fan(at(r0, W - 1), 0, y, tanh); fan(at(r1, W - 1), 0, y, tanh); }
    }
    if (H & 1) {
      const last = at(dinp, (p * H + H - 1) * W);
      for (let w = 0; w < W; w++) fan(at(last, w), 0, y, tanh);
    }
  }
}

// pool_bwd's store of a vector and of one value at d: as is, or with `tanh` times 1 - y^2, y at d + y.
// @ts-ignore: decorator
@inline function fan_v(d: usize, v: v128, y: usize, tanh: bool): void {
  v128.store(d, tanh ? tanh_grad_v(v, v128.load(d + y)) : v);
}
// @ts-ignore: decorator
@inline function fan(d: usize, v: f32, y: usize, tanh: bool): void {
  store<f32>(d, tanh ? tanh_grad(v, load<f32>(d + y)) : v);
}
