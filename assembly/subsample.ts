// The 1998 LeNet-5's trainable subsampling (S2, S4): each output is the sum of a 2x2 block times a
// per-channel coefficient, plus a per-channel bias. Stride 2, f32 NCHW; OH = H/2, OW = W/2 rounded down.
import { block_sum, block_sums } from "./avgpool";
import { at, hsum } from "./simd";

// inp (B,C,H,W) coef (C) bias (C) -> out (B,C,OH,OW) = coef[c] * (2x2 sum) + bias[c]; overwrites out.
export function subsample2d_fwd(out: usize, inp: usize, coef: usize, bias: usize, B: i32, C: i32, H: i32, W: i32): void {
  const OH = H >> 1, OW = W >> 1;
  for (let p = 0; p < B * C; p++) {
    const c = p % C;
    const k = load<f32>(at(coef, c)), b = load<f32>(at(bias, c));
    const kv = f32x4.splat(k), bv = f32x4.splat(b);
    for (let oh = 0; oh < OH; oh++) {
      const r0 = at(inp, (p * H + 2 * oh) * W);
      const r1 = at(r0, W);
      const o = at(out, (p * OH + oh) * OW);
      let ow = 0;
      for (; ow + 4 <= OW; ow += 4) v128.store(at(o, ow), f32x4.add(f32x4.mul(kv, block_sums(r0, r1, ow)), bv));
      for (; ow < OW; ow++) store<f32>(at(o, ow), k * block_sum(r0, r1, ow) + b);
    }
  }
}

// dout (B,C,OH,OW) inp (B,C,H,W) coef (C) -> dinp (B,C,H,W) = coef[c] * dout spread over each 2x2
// block (overwrites; rows/columns dropped by the rounding get 0); dcoef (C) += sum of dout * 2x2 sum;
// dbias (C) += sum of dout (each channel's whole sum over the batch added once).
export function subsample2d_bwd(dinp: usize, dcoef: usize, dbias: usize, dout: usize, inp: usize, coef: usize,
  B: i32, C: i32, H: i32, W: i32): void {
  const OH = H >> 1, OW = W >> 1;
  for (let c = 0; c < C; c++) {
    const k = load<f32>(at(coef, c));
    const kv = f32x4.splat(k);
    let gc = f32x4.splat(0), gb = f32x4.splat(0);
    let sc: f32 = 0, sb: f32 = 0; // the scalar tails' sums
    for (let b = 0; b < B; b++) {
      const p = b * C + c;
      for (let oh = 0; oh < OH; oh++) {
        const g = at(dout, (p * OH + oh) * OW);
        const x0 = at(inp, (p * H + 2 * oh) * W), x1 = at(x0, W);
        const d0 = at(dinp, (p * H + 2 * oh) * W), d1 = at(d0, W);
        let ow = 0;
        for (; ow + 4 <= OW; ow += 4) {
          const gv = v128.load(at(g, ow));
          gc = f32x4.add(gc, f32x4.mul(gv, block_sums(x0, x1, ow)));
          gb = f32x4.add(gb, gv);
          // [g0 g0 g1 g1] [g2 g2 g3 g3], times the coefficient, into both rows of the blocks.
          const v = f32x4.mul(gv, kv);
          const lo = v128.shuffle<f32>(v, v, 0, 0, 1, 1), hi = v128.shuffle<f32>(v, v, 2, 2, 3, 3);
          v128.store(at(d0, 2 * ow), lo); v128.store(at(d0, 2 * ow + 4), hi);
          v128.store(at(d1, 2 * ow), lo); v128.store(at(d1, 2 * ow + 4), hi);
        }
        for (; ow < OW; ow++) {
          const gs = load<f32>(at(g, ow));
          sc += gs * block_sum(x0, x1, ow);
          sb += gs;
          const v = gs * k;
          store<f32>(at(d0, 2 * ow), v); store<f32>(at(d0, 2 * ow + 1), v);
          store<f32>(at(d1, 2 * ow), v); store<f32>(at(d1, 2 * ow + 1), v);
        }
        if (W & 1) { store<f32>(at(d0, W - 1), 0); store<f32>(at(d1, W - 1), 0); }
      }
      if (H & 1) {
        const last = at(dinp, (p * H + H - 1) * W);
        for (let w = 0; w < W; w++) store<f32>(at(last, w), 0);
      }
    }
    store<f32>(at(dcoef, c), load<f32>(at(dcoef, c)) + (hsum(gc) + sc));
    store<f32>(at(dbias, c), load<f32>(at(dbias, c)) + (hsum(gb) + sb));
  }
}
