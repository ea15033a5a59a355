// 2-D convolution ('valid', stride 1, cross-correlation as in PyTorch), f32, NCHW.
// 'same' padding is done by the caller laying the input out pre-padded (see src/lenet.ts), so the
// kernels never branch on borders. Vectorised along the output row (f32x4), scalar tails.
import { at, hsum, zero_f32 } from "./simd";

// inp (B,C,H,W) weight (OC,C,K,K) bias (OC) -> out (B,OC,OH,OW), OH = H-K+1, OW = W-K+1; overwrites out.
export function conv2d_fwd(out: usize, inp: usize, weight: usize, bias: usize,
  B: i32, C: i32, H: i32, W: i32, OC: i32, K: i32): void {
  const OH = H - K + 1, OW = W - K + 1;
  for (let b = 0; b < B; b++) {
    for (let oc = 0; oc < OC; oc++) {
      const bv = load<f32>(at(bias, oc));
      const wOc = at(weight, oc * C * K * K);
      const outPlane = at(out, (b * OC + oc) * OH * OW);
      for (let oh = 0; oh < OH; oh++) {
        const outRow = at(outPlane, oh * OW);
        let ow = 0;
        // Two vectors (8 outputs) per pass: each weight splat is used twice.
        for (; ow + 8 <= OW; ow += 8) {
          let acc0 = f32x4.splat(bv), acc1 = f32x4.splat(bv);
          for (let c = 0; c < C; c++) {
            for (let kh = 0; kh < K; kh++) {
              const row = at(inp, ((b * C + c) * H + oh + kh) * W + ow);
              const wRow = at(wOc, (c * K + kh) * K);
              for (let kw = 0; kw < K; kw++) {
                const w = f32x4.splat(load<f32>(at(wRow, kw)));
                acc0 = f32x4.add(acc0, f32x4.mul(w, v128.load(at(row, kw))));
                acc1 = f32x4.add(acc1, f32x4.mul(w, v128.load(at(row, kw + 4))));
              }
            }
          }
          v128.store(at(outRow, ow), acc0);
          v128.store(at(outRow, ow + 4), acc1);
        }
        for (; ow + 4 <= OW; ow += 4) {
          let acc = f32x4.splat(bv);
          for (let c = 0; c < C; c++) {
            for (let kh = 0; kh < K; kh++) {
              const row = at(inp, ((b * C + c) * H + oh + kh) * W + ow);
              const wRow = at(wOc, (c * K + kh) * K);
              for (let kw = 0; kw < K; kw++) {
                acc = f32x4.add(acc, f32x4.mul(f32x4.splat(load<f32>(at(wRow, kw))), v128.load(at(row, kw))));
              }
            }
          }
          v128.store(at(outRow, ow), acc);
        }
        for (; ow < OW; ow++) {
          let acc = bv;
          for (let c = 0; c < C; c++) {
            for (let kh = 0; kh < K; kh++) {
              const row = at(inp, ((b * C + c) * H + oh + kh) * W + ow);
              const wRow = at(wOc, (c * K + kh) * K);
              for (let kw = 0; kw < K; kw++) acc += load<f32>(at(wRow, kw)) * load<f32>(at(row, kw));
            }
          }
          store<f32>(at(outRow, ow), acc);
        }
      }
    }
  }
}

// dout (B,OC,OH,OW) weight (OC,C,K,K) -> dinp (B,C,H,W); overwrites dinp.
// Scatter form: every output-gradient row adds w * row into the input-gradient row it came from.
export function conv2d_bwd_input(dinp: usize, dout: usize, weight: usize,
  B: i32, C: i32, H: i32, W: i32, OC: i32, K: i32): void {
  const OH = H - K + 1, OW = W - K + 1;
  zero_f32(dinp, B * C * H * W);
  for (let b = 0; b < B; b++) {
    for (let c = 0; c < C; c++) {
      const dinPlane = at(dinp, (b * C + c) * H * W);
      for (let oc = 0; oc < OC; oc++) {
        const doutPlane = at(dout, (b * OC + oc) * OH * OW);
        for (let kh = 0; kh < K; kh++) {
          for (let kw = 0; kw < K; kw++) {
            const ws = load<f32>(at(weight, ((oc * C + c) * K + kh) * K + kw));
            const w = f32x4.splat(ws);
            for (let oh = 0; oh < OH; oh++) {
              const src = at(doutPlane, oh * OW);
              const dst = at(dinPlane, (oh + kh) * W + kw);
              let ow = 0;
              for (; ow + 4 <= OW; ow += 4) {
                v128.store(at(dst, ow), f32x4.add(v128.load(at(dst, ow)), f32x4.mul(w, v128.load(at(src, ow)))));
              }
              for (; ow < OW; ow++) store<f32>(at(dst, ow), load<f32>(at(dst, ow)) + ws * load<f32>(at(src, ow)));
            }
          }
        }
      }
    }
  }
}

// dout (B,OC,OH,OW) inp (B,C,H,W) -> dweight (OC,C,K,K) and dbias (OC); ACCUMULATES (+=) into both.
export function conv2d_bwd_filter(dweight: usize, dbias: usize, dout: usize, inp: usize,
  B: i32, C: i32, H: i32, W: i32, OC: i32, K: i32): void {
  const OH = H - K + 1, OW = W - K + 1;
  for (let oc = 0; oc < OC; oc++) {
    for (let c = 0; c < C; c++) {
      for (let kh = 0; kh < K; kh++) {
        for (let kw = 0; kw < K; kw++) {
          let acc = f32x4.splat(0);
          let tail: f32 = 0;
          for (let b = 0; b < B; b++) {
            const doutPlane = at(dout, (b * OC + oc) * OH * OW);
            const inPlane = at(inp, ((b * C + c) * H + kh) * W + kw);
            for (let oh = 0; oh < OH; oh++) {
              const g = at(doutPlane, oh * OW);
              const x = at(inPlane, oh * W);
              let ow = 0;
              for (; ow + 4 <= OW; ow += 4) acc = f32x4.add(acc, f32x4.mul(v128.load(at(g, ow)), v128.load(at(x, ow))));
              for (; ow < OW; ow++) tail += load<f32>(at(g, ow)) * load<f32>(at(x, ow));
            }
          }
          const p = at(dweight, ((oc * C + c) * K + kh) * K + kw);
          store<f32>(p, load<f32>(p) + (hsum(acc) + tail));
        }
      }
    }
    let acc = f32x4.splat(0);
    let tail: f32 = 0;
    const plane = OH * OW;
    for (let b = 0; b < B; b++) {
      const g = at(dout, (b * OC + oc) * plane);
      let j = 0;
      for (; j + 4 <= plane; j += 4) acc = f32x4.add(acc, v128.load(at(g, j)));
      for (; j < plane; j++) tail += load<f32>(at(g, j));
    }
    const p = at(dbias, oc);
    store<f32>(p, load<f32>(p) + (hsum(acc) + tail));
  }
}
