// 2-D convolution ('valid', stride 1, cross-correlation as in PyTorch), f32, NCHW, as im2col + GEMM:
// each image's input patches are unrolled into col (R = C*K*K rows, P = OH*OW columns), so the
// forward pass is W (OC,R) . col (R,P), the input gradient is W^T . dout, and the weight gradient is
// dout . col^T. 'same' padding is done by the caller laying the input out pre-padded (src/model/lenet.ts),
// so these kernels never branch on borders.
import { gemm_nn, gemm_nt_acc } from "./gemm";
import { at, hsum, madd, zero_f32 } from "./simd";

// Copies n contiguous f32 from src to dst: 4 vectors per pass, then single vectors, then a 2-float
// and a 1-float tail (c3's rows are 10 wide). Pointers step with constant offsets, so the engine
// folds each address into its load or store instead of computing it apart.
// @ts-ignore: decorator
@inline function copy_row(dst: usize, src: usize, n: i32): void {
  let i = 0;
  for (; i + 16 <= n; i += 16, src += 64, dst += 64) {
    const a = v128.load(src), b = v128.load(src, 16), c = v128.load(src, 32), d = v128.load(src, 48);
    v128.store(dst, a); v128.store(dst, b, 16); v128.store(dst, c, 32); v128.store(dst, d, 48);
  }
  for (; i + 4 <= n; i += 4, src += 16, dst += 16) v128.store(dst, v128.load(src));
  if (i + 2 <= n) { store<u64>(dst, load<u64>(src)); i += 2; src += 8; dst += 8; }
  if (i < n) store<f32>(dst, load<f32>(src));
}

// dst (n) += src (n), f32, in the same layout of passes as copy_row; each element gets one add.
// @ts-ignore: decorator
@inline function add_row(dst: usize, src: usize, n: i32): void {
  let i = 0;
  for (; i + 8 <= n; i += 8, src += 32, dst += 32) {
    const a = f32x4.add(v128.load(dst), v128.load(src)), b = f32x4.add(v128.load(dst, 16), v128.load(src, 16));
    v128.store(dst, a); v128.store(dst, b, 16);
  }
  for (; i + 4 <= n; i += 4, src += 16, dst += 16) v128.store(dst, f32x4.add(v128.load(dst), v128.load(src)));
  for (; i < n; i++, src += 4, dst += 4) store<f32>(dst, load<f32>(dst) + load<f32>(src));
}

// Image b of inp (B,C,H,W) -> its patches in colB (C*K*K, OH*OW): row (c,kh,kw) holds input rows
// kh.. of channel c, from column kw.
// @ts-ignore: decorator
@inline function unroll(colB: usize, inp: usize, b: i32, C: i32, H: i32, W: i32, K: i32): void {
  const OH = H - K + 1, OW = W - K + 1, P = OH * OW;
  let row = colB;
  for (let c = 0; c < C; c++) {
    for (let kh = 0; kh < K; kh++) {
      const top = at(inp, ((b * C + c) * H + kh) * W);
      for (let kw = 0; kw < K; kw++, row = at(row, P)) {
        let src = at(top, kw), dst = row;
        for (let oh = 0; oh < OH; oh++, src = at(src, W), dst = at(dst, OW)) copy_row(dst, src, OW);
      }
    }
  }
}

// inp (B,C,H,W) weight (OC,C,K,K) bias (OC) -> out (B,OC,OH,OW), OH = H-K+1, OW = W-K+1; overwrites
// out. Also overwrites col with the unrolled patches: (B, C*K*K, OH*OW) when keepCol (what
// conv2d_bwd_weight reads), else one image's worth reused for every image (a forward-only pass when
// neither direct kernel of conv2d_direct.ts fits the shape: it stays in cache).
export function conv2d_fwd(out: usize, col: usize, inp: usize, weight: usize, bias: usize,
  B: i32, C: i32, H: i32, W: i32, OC: i32, K: i32, keepCol: bool): void {
  const OH = H - K + 1, OW = W - K + 1, P = OH * OW, R = C * K * K;
  for (let b = 0; b < B; b++) {
    const colB = keepCol ? at(col, b * R * P) : col;
    unroll(colB, inp, b, C, H, W, K);
    gemm_nn(at(out, b * OC * P), weight, R, 1, colB, bias, OC, P, R);
  }
}

// inp (B,C,H,W) -> col (B, C*K*K, OH*OW), the patches conv2d_bwd_weight reads, alone: training runs
// c3's forward product with a direct kernel (conv2d_direct.ts: the same bits, faster than the GEMM).
export function im2col(col: usize, inp: usize, B: i32, C: i32, H: i32, W: i32, K: i32): void {
  const P = (H - K + 1) * (W - K + 1), R = C * K * K;
  for (let b = 0; b < B; b++) unroll(at(col, b * R * P), inp, b, C, H, W, K);
}

// dout (B,OC,OH,OW) weight (OC,C,K,K) -> dinp (B,C,H,W); overwrites dinp. dcol (C*K*K, OH*OW) is
// scratch for one image: dcol = W^T . dout, then each patch row is added back where it came from.
export function conv2d_bwd_input(dinp: usize, dcol: usize, dout: usize, weight: usize,
  B: i32, C: i32, H: i32, W: i32, OC: i32, K: i32): void {
  const OH = H - K + 1, OW = W - K + 1, P = OH * OW, R = C * K * K;
  zero_f32(dinp, B * C * H * W);
  for (let b = 0; b < B; b++) {
    gemm_nn(dcol, weight, 1, R, at(dout, b * OC * P), 0, R, P, OC);
    let row = dcol;
    for (let c = 0; c < C; c++) {
      for (let kh = 0; kh < K; kh++) {
        const top = at(dinp, ((b * C + c) * H + kh) * W);
        for (let kw = 0; kw < K; kw++, row = at(row, P)) {
          let dst = at(top, kw), src = row;
          for (let oh = 0; oh < OH; oh++, dst = at(dst, W), src = at(src, OW)) add_row(dst, src, OW);
        }
      }
    }
  }
}

// dout (B,OC,OH,OW) and col (B, C*K*K, OH*OW) from conv2d_fwd -> dweight (OC,C,K,K) and dbias (OC);
// ACCUMULATES (+=) into both, each element's sum over the whole call added once.
export function conv2d_bwd_weight(dweight: usize, dbias: usize, dout: usize, col: usize,
  B: i32, C: i32, H: i32, W: i32, OC: i32, K: i32): void {
  const OH = H - K + 1, OW = W - K + 1, P = OH * OW, R = C * K * K;
  gemm_nt_acc(dweight, dout, OC * P, col, R * P, OC, R, P, B);
  bias_grad_acc(dbias, dout, B, OC, P);
}

// dbias (OC) += the sum of dout (B,OC,P) over b and p, vector lanes first, in b then p order.
function bias_grad_acc(dbias: usize, dout: usize, B: i32, OC: i32, P: i32): void {
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

// conv2d_bwd_weight for 5x5 kernels whose output rows are a multiple of 4 wide (c1), read straight
// from the input (B,C,H,W) instead of from im2col's patches, so the forward pass needs no col:
// dweight[oc,c,kh,kw] += sum over b, oh, ow of dout[b,oc,oh,ow] * inp[b,c,oh+kh,ow+kw]. Each sum
// takes its products in conv2d_bwd_weight's order (b, then p = oh*OW + ow four at a time: with OW a
// multiple of 4 a vector never straddles two rows, and lane l holds the ow = l mod 4), so both give
// the same bits (test/kernels/conv.test.ts). One image at a time, so its dout and input stay in L1:
// the vector sums wait in `acc` (OC*C*K*K vectors of scratch) between images. Blocks of one output
// channel x the 5 taps of one kernel row: 5 accumulators (with 2 channels, V8 hoists the 5 input
// loads and spills 3 of the 10 accumulators every iteration: 38% of the ceiling against 50%).
export function conv2d_bwd_weight_rows(dweight: usize, dbias: usize, acc: usize, dout: usize, inp: usize,
  B: i32, C: i32, H: i32, W: i32, OC: i32): void {
  const K = 5, OH = H - K + 1, OW = W - K + 1, P = OH * OW, chunks = P >> 2, perRow = OW >> 2;
  const rowSkip = <usize>(W - OW) << 2; // bytes from the end of one row's chunks to the next row
  const taps = C * K * K;
  zero_f32(acc, OC * taps * 4);
  for (let b = 0; b < B; b++) {
    let s = acc;
    for (let oc = 0; oc < OC; oc++) {
      for (let c = 0; c < C; c++) {
        for (let kh = 0; kh < K; kh++, s += 80) {
          let a0 = v128.load(s), a1 = v128.load(s, 16), a2 = v128.load(s, 32), a3 = v128.load(s, 48), a4 = v128.load(s, 64);
          let d = at(dout, (b * OC + oc) * P), x = at(inp, ((b * C + c) * H + kh) * W);
          for (let i = 0, j = 0; i < chunks; i++, d += 16, x += 16) {
            const g = v128.load(d);
            a0 = madd(g, v128.load(x), a0); a1 = madd(g, v128.load(x, 4), a1); a2 = madd(g, v128.load(x, 8), a2);
            a3 = madd(g, v128.load(x, 12), a3); a4 = madd(g, v128.load(x, 16), a4);
            if (++j == perRow) { j = 0; x += rowSkip; }
          }
          v128.store(s, a0); v128.store(s, a1, 16); v128.store(s, a2, 32); v128.store(s, a3, 48); v128.store(s, a4, 64);
        }
      }
    }
  }
  const zero: f32 = 0; // conv2d_bwd_weight adds its (empty) scalar tail: + 0 turns a -0 sum into +0
  for (let t = 0; t < OC * taps; t++) {
    const r = at(dweight, t);
    store<f32>(r, load<f32>(r) + (hsum(v128.load(acc + (<usize>t << 4))) + zero));
  }
  bias_grad_acc(dbias, dout, B, OC, P);
}
