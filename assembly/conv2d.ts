// 2-D convolution ('valid', stride 1, cross-correlation as in PyTorch), f32, NCHW, as im2col + GEMM:
// each image's input patches are unrolled into col (R = C*K*K rows, P = OH*OW columns), so the
// forward pass is W (OC,R) . col (R,P), the input gradient is W^T . dout, and the filter gradient is
// dout . col^T. 'same' padding is done by the caller laying the input out pre-padded (src/lenet.ts),
// so these kernels never branch on borders.
import { gemm_nn, gemm_nt_acc } from "./gemm";
import { add_f32, at, hsum, zero_f32 } from "./simd";

// Copies OW contiguous f32 from src to dst: SIMD body, scalar tail.
// @ts-ignore: decorator
@inline function copy_row(dst: usize, src: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(at(dst, i), v128.load(at(src, i)));
  for (; i < n; i++) store<f32>(at(dst, i), load<f32>(at(src, i)));
}

// inp (B,C,H,W) weight (OC,C,K,K) bias (OC) -> out (B,OC,OH,OW), OH = H-K+1, OW = W-K+1; overwrites
// out. Also overwrites col with the unrolled patches: (B, C*K*K, OH*OW) when keepCol (training:
// conv2d_bwd_filter reads them), else one image's worth reused for every image (inference: it
// stays in cache).
export function conv2d_fwd(out: usize, col: usize, inp: usize, weight: usize, bias: usize,
  B: i32, C: i32, H: i32, W: i32, OC: i32, K: i32, keepCol: bool): void {
  const OH = H - K + 1, OW = W - K + 1, P = OH * OW, R = C * K * K;
  for (let b = 0; b < B; b++) {
    const colB = keepCol ? at(col, b * R * P) : col;
    for (let c = 0; c < C; c++) {
      for (let kh = 0; kh < K; kh++) {
        for (let kw = 0; kw < K; kw++) {
          const row = at(colB, ((c * K + kh) * K + kw) * P);
          for (let oh = 0; oh < OH; oh++) copy_row(at(row, oh * OW), at(inp, ((b * C + c) * H + oh + kh) * W + kw), OW);
        }
      }
    }
    gemm_nn(at(out, b * OC * P), weight, R, 1, colB, bias, OC, P, R);
  }
}

// dout (B,OC,OH,OW) weight (OC,C,K,K) -> dinp (B,C,H,W); overwrites dinp. dcol (C*K*K, OH*OW) is
// scratch for one image: dcol = W^T . dout, then each patch row is added back where it came from.
export function conv2d_bwd_input(dinp: usize, dcol: usize, dout: usize, weight: usize,
  B: i32, C: i32, H: i32, W: i32, OC: i32, K: i32): void {
  const OH = H - K + 1, OW = W - K + 1, P = OH * OW, R = C * K * K;
  zero_f32(dinp, B * C * H * W);
  for (let b = 0; b < B; b++) {
    gemm_nn(dcol, weight, 1, R, at(dout, b * OC * P), 0, R, P, OC);
    for (let c = 0; c < C; c++) {
      for (let kh = 0; kh < K; kh++) {
        for (let kw = 0; kw < K; kw++) {
          const row = at(dcol, ((c * K + kh) * K + kw) * P);
          for (let oh = 0; oh < OH; oh++) add_f32(at(dinp, ((b * C + c) * H + oh + kh) * W + kw), at(row, oh * OW), OW);
        }
      }
    }
  }
}

// dout (B,OC,OH,OW) and col (B, C*K*K, OH*OW) from conv2d_fwd -> dweight (OC,C,K,K) and dbias (OC);
// ACCUMULATES (+=) into both, each element's sum over the whole call added once.
export function conv2d_bwd_filter(dweight: usize, dbias: usize, dout: usize, col: usize,
  B: i32, C: i32, H: i32, W: i32, OC: i32, K: i32): void {
  const OH = H - K + 1, OW = W - K + 1, P = OH * OW, R = C * K * K;
  gemm_nt_acc(dweight, dout, OC * P, col, R * P, OC, R, P, B);
  for (let oc = 0; oc < OC; oc++) {
    let acc = f32x4.splat(0);
    let tail: f32 = 0;
    for (let b = 0; b < B; b++) {
      const g = at(dout, (b * OC + oc) * P);
      let j = 0;
      for (; j + 4 <= P; j += 4) acc = f32x4.add(acc, v128.load(at(g, j)));
      for (; j < P; j++) tail += load<f32>(at(g, j));
    }
    const p = at(dbias, oc);
    store<f32>(p, load<f32>(p) + (hsum(acc) + tail));
  }
}
