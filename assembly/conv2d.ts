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
// conv2d_bwd_weight reads), else one image's worth reused for every image. The networks run the
// direct kernels of conv2d_direct.ts (the same bits); this is their reference in the tests.
export function conv2d_fwd(out: usize, col: usize, inp: usize, weight: usize, bias: usize,
  B: i32, C: i32, H: i32, W: i32, OC: i32, K: i32, keepCol: bool): void {
  const OH = H - K + 1, OW = W - K + 1, P = OH * OW, R = C * K * K;
  for (let b = 0; b < B; b++) {
    const colB = keepCol ? at(col, b * R * P) : col;
    unroll(colB, inp, b, C, H, W, K);
    gemm_nn(at(out, b * OC * P), weight, R, 1, colB, bias, OC, P, R);
  }
}

// conv2d_bwd_input's scratch: lane masks (4 per 16 columns of an input row, per kw), then one
// image's patch gradients dcol (C*K*K rows of OH*OW), with room after it for the add-back's last
// reads, which run up to 16 columns past a row (whatever that room holds is masked off). Reads
// shifted left stay inside dcol: only taps kw >= 1 shift, and the row before theirs is dcol's.
// @ts-ignore: decorator
@inline function mask_bytes(W: i32, K: i32): i32 { return ((W + 15) >> 4) * K * 64; }

// Bytes of conv2d_bwd_input's scratch for inputs (C,H,W) and K x K kernels.
export function conv2d_bwd_input_scratch(C: i32, H: i32, W: i32, K: i32): i32 {
  const OH = H - K + 1, OW = W - K + 1, tail = ((W + 15) & ~15) - W;
  return mask_bytes(W, K) + (C * K * K * OH * OW + tail) * 4;
}

// dout (B,OC,OH,OW) weight (OC,C,K,K) -> dinp (B,C,H,W); overwrites dinp. scratch:
// conv2d_bwd_input_scratch bytes. Per image, dcol = W^T . dout (the GEMM), then each input row is
// summed in registers from its patch rows: tap (kh, kw) adds dcol's row (c,kh,kw) at output row
// y - kh, shifted kw columns right. Every element gets its taps in increasing (kh, kw) order,
// starting from +0; a tap that does not reach it is masked to +0, which leaves the sum unchanged
// (a sum that starts at +0 is never -0, the one value + +0 would change).
// One store per element: adding rows into dinp in place (the way im2col unrolled them) made each
// shifted load wait on the store before it.
export function conv2d_bwd_input(dinp: usize, scratch: usize, dout: usize, weight: usize,
  B: i32, C: i32, H: i32, W: i32, OC: i32, K: i32): void {
  const P = (H - K + 1) * (W - K + 1), R = C * K * K;
  const masks = scratch, dcol = scratch + <usize>mask_bytes(W, K);
  const c3 = K == 5 && W == 14; // add_back_14x5 knows its lanes; only add_back reads the masks
  if (!c3) fill_masks(masks, W, K);
  for (let b = 0; b < B; b++) {
    gemm_nn(dcol, weight, 1, R, at(dout, b * OC * P), 0, R, P, OC);
    const img = at(dinp, b * C * H * W);
    if (c3) add_back_14x5(img, dcol, C, H);
    else add_back(img, dcol, masks, C, H, W, K);
  }
}

// add_back's lane masks. Mask of column x = 4j + lane for tap kw: all ones iff the patch column
// x - kw is in 0..OW-1. Vector j of kw is at ((j >> 2) * K + kw) * 64 + (j & 3) * 16: one group of
// 16 columns' four vectors for a kw are adjacent.
function fill_masks(masks: usize, W: i32, K: i32): void {
  const OW = W - K + 1, groups = (W + 15) >> 4;
  for (let j = 0; j < groups * 4; j++) {
    for (let kw = 0; kw < K; kw++) {
      const m = masks + <usize>((((j >> 2) * K + kw) << 6) + ((j & 3) << 4));
      for (let lane = 0; lane < 4; lane++) {
        const x = 4 * j + lane - kw;
        store<i32>(m + (<usize>lane << 2), x >= 0 && x < OW ? -1 : 0);
      }
    }
  }
}

// One image's input gradient (C,H,W) from its patch gradients dcol, 16 columns at a time, each tap's
// four vectors masked to the lanes it reaches.
function add_back(img: usize, dcol: usize, masks: usize, C: i32, H: i32, W: i32, K: i32): void {
  const OH = H - K + 1, OW = W - K + 1, P = OH * OW, groups = (W + 15) >> 4;
  const khStep = <usize>(K * P - OW) << 2, kwStep = <usize>(P - 1) << 2; // bytes to the next tap's source
  for (let c = 0; c < C; c++) {
    for (let y = 0; y < H; y++) {
      const lo = max(0, y - OH + 1), hi = min(K - 1, y), row = at(img, (c * H + y) * W);
      for (let g = 0; g < groups; g++) {
        let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
        let src = at(dcol, (c * K + lo) * K * P + (y - lo) * OW + 16 * g);
        for (let kh = lo; kh <= hi; kh++, src += khStep) {
          let s = src, m = masks + <usize>(g * K * 64);
          for (let kw = 0; kw < K; kw++, s += kwStep, m += 64) {
            a0 = f32x4.add(a0, v128.and(v128.load(s), v128.load(m)));
            a1 = f32x4.add(a1, v128.and(v128.load(s, 16), v128.load(m, 16)));
            a2 = f32x4.add(a2, v128.and(v128.load(s, 32), v128.load(m, 32)));
            a3 = f32x4.add(a3, v128.and(v128.load(s, 48), v128.load(m, 48)));
          }
        }
        store_row16(at(row, 16 * g), a0, a1, a2, a3, min(16, W - 16 * g));
      }
    }
  }
}

// add_back for c3's shape (14-wide rows, 5x5 taps, 10-wide patch rows), in the same order. Which
// lanes a tap reaches is known here, so a tap that reaches none of a vector's lanes is skipped
// and one that reaches all of them is not masked: 16 loads and 7 masks per kernel row where
// add_back has 20 and 20 (conv2d_bwd_input 1.075x faster, same bits). Columns 14-15 are not stored.
function add_back_14x5(img: usize, dcol: usize, C: i32, H: i32): void {
  const K = 5, W = 14, OW = 10, OH = H - K + 1, P = OH * OW;
  const khStep = <usize>(K * P - OW) << 2, kw1 = <usize>(P - 1) << 2, kw2 = kw1 + kw1, kw3 = kw2 + kw1, kw4 = kw3 + kw1;
  // Lanes reached, by columns 0-3 (a0), 8-11 (a2), 12-13 (a3); columns 4-7 (a1) take every tap whole.
  const a0kw1 = i32x4(0, -1, -1, -1), a0kw2 = i32x4(0, 0, -1, -1), a0kw3 = i32x4(0, 0, 0, -1);
  const a2kw0 = i32x4(-1, -1, 0, 0), a2kw1 = i32x4(-1, -1, -1, 0), a3kw3 = i32x4(-1, 0, 0, 0), a3kw4 = a2kw0;
  for (let c = 0; c < C; c++) {
    for (let y = 0; y < H; y++) {
      const lo = max(0, y - OH + 1), hi = min(K - 1, y);
      let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
      let s = at(dcol, (c * K + lo) * K * P + (y - lo) * OW);
      for (let kh = lo; kh <= hi; kh++, s += khStep) {
        a0 = f32x4.add(a0, v128.load(s));
        a1 = f32x4.add(a1, v128.load(s, 16));
        a2 = f32x4.add(a2, v128.and(v128.load(s, 32), a2kw0));
        let t = s + kw1;
        a0 = f32x4.add(a0, v128.and(v128.load(t), a0kw1));
        a1 = f32x4.add(a1, v128.load(t, 16));
        a2 = f32x4.add(a2, v128.and(v128.load(t, 32), a2kw1));
        t = s + kw2;
        a0 = f32x4.add(a0, v128.and(v128.load(t), a0kw2));
        a1 = f32x4.add(a1, v128.load(t, 16));
        a2 = f32x4.add(a2, v128.load(t, 32));
        t = s + kw3;
        a0 = f32x4.add(a0, v128.and(v128.load(t), a0kw3));
        a1 = f32x4.add(a1, v128.load(t, 16));
        a2 = f32x4.add(a2, v128.load(t, 32));
        a3 = f32x4.add(a3, v128.and(v128.load(t, 48), a3kw3));
        t = s + kw4;
        a1 = f32x4.add(a1, v128.load(t, 16));
        a2 = f32x4.add(a2, v128.load(t, 32));
        a3 = f32x4.add(a3, v128.and(v128.load(t, 48), a3kw4));
      }
      store_row16(at(img, (c * H + y) * W), a0, a1, a2, a3, W);
    }
  }
}

// The first n (1..16) of the 16 floats in a0..a3 to dst.
// @ts-ignore: decorator
@inline function store_row16(dst: usize, a0: v128, a1: v128, a2: v128, a3: v128, n: i32): void {
  if (n == 16) {
    v128.store(dst, a0); v128.store(dst, a1, 16); v128.store(dst, a2, 32); v128.store(dst, a3, 48);
    return;
  }
  let v = a0;
  if (n >= 4) { v128.store(dst, a0); v = a1; }
  if (n >= 8) { v128.store(dst, a1, 16); v = a2; }
  if (n >= 12) { v128.store(dst, a2, 32); v = a3; }
  const d = dst + (<usize>(n & ~3) << 2), r = n & 3;
  if (r >= 2) store<u64>(d, i64x2.extract_lane(v, 0));
  if (r == 1) store<f32>(d, f32x4.extract_lane(v, 0));
  if (r == 3) store<f32>(d, f32x4.extract_lane(v, 2), 8);
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

// Image b's patches (as unroll writes them) chunk-major: chunk i (p = 4i..4i+3) of patch row r is the
// 4 floats at (i * rows4 + r) * 4, rows4 = C*K*K rounded up to a multiple of 4 (the rows past C*K*K
// are not written), so a block of 4 rows is one pointer at constant offsets. P = OH*OW must be a
// multiple of 4. Every patch row's chunk sits at the same offsets from its tap's input: one vector
// load when the chunk lies in one output row (c3: 4 chunks in 5), else four floats.
function pack_patches(patches: usize, inp: usize, b: i32, C: i32, H: i32, W: i32, K: i32): void {
  const OW = W - K + 1, P = (H - K + 1) * OW, chunks = P >> 2, R = C * K * K, chunkBytes = <usize>((R + 3) & ~3) << 4;
  const img = at(inp, b * C * H * W);
  for (let i = 0, oh = 0, ow = 0; i < chunks; i++, ow += 4) {
    while (ow >= OW) { ow -= OW; oh++; }
    const x = at(img, oh * W + ow), d = patches + <usize>i * chunkBytes;
    if (ow + 4 <= OW) copy_taps(d, x, 0, 0, 0, C, H, W, K, false);
    else copy_taps(d, x, lane_offset(ow, 1, OW, W), lane_offset(ow, 2, OW, W), lane_offset(ow, 3, OW, W), C, H, W, K, true);
  }
}

// pack_patches' copy of one chunk for every tap: x is tap 0's input for lane 0, lanes 1-3 at o1-o3
// bytes from it (`lanes`; else contiguous). With 5x5 kernels a kernel row's taps at a time: constant
// offsets, and a fifth of the bookkeeping. Its own function: V8 keeps these loops' few values in
// registers.
function copy_taps(d: usize, x: usize, o1: usize, o2: usize, o3: usize, C: i32, H: i32, W: i32, K: i32, lanes: bool): void {
  const rowSkip = <usize>W << 2, chanSkip = <usize>((H - K) * W) << 2, end = d + (<usize>(C * K * K) << 4);
  if (K == 5 && !lanes) {
    for (let kh = 0; d < end; d += 80, x += rowSkip) {
      v128.store(d, v128.load(x)); v128.store(d, v128.load(x, 4), 16); v128.store(d, v128.load(x, 8), 32);
      v128.store(d, v128.load(x, 12), 48); v128.store(d, v128.load(x, 16), 64);
      if (++kh == K) { kh = 0; x += chanSkip; }
    }
  } else if (K == 5) {
    for (let kh = 0; d < end; d += 80, x += rowSkip) {
      lanes_tap(d, x, o1, o2, o3); lanes_tap(d + 16, x + 4, o1, o2, o3); lanes_tap(d + 32, x + 8, o1, o2, o3);
      lanes_tap(d + 48, x + 12, o1, o2, o3); lanes_tap(d + 64, x + 16, o1, o2, o3);
      if (++kh == K) { kh = 0; x += chanSkip; }
    }
  } else {
    for (let kw = 0, kh = 0; d < end; d += 16, x += 4) {
      if (lanes) lanes_tap(d, x, o1, o2, o3);
      else v128.store(d, v128.load(x));
      if (++kw == K) { kw = 0; x += rowSkip - (<usize>K << 2); if (++kh == K) { kh = 0; x += chanSkip; } }
    }
  }
}

// One tap of a chunk whose lanes lie in two output rows: its 4 floats, one by one.
// @ts-ignore: decorator
@inline function lanes_tap(d: usize, x: usize, o1: usize, o2: usize, o3: usize): void {
  store<f32>(d, load<f32>(x)); store<f32>(d, load<f32>(x + o1), 4);
  store<f32>(d, load<f32>(x + o2), 8); store<f32>(d, load<f32>(x + o3), 12);
}

// Bytes from the input of output pixel (oh, ow) to that of the pixel `l` places further in the
// output plane (rows OW wide, input rows W wide).
// @ts-ignore: decorator
@inline function lane_offset(ow: i32, l: i32, OW: i32, W: i32): usize {
  const q = ow + l;
  return <usize>((q / OW) * W + q % OW - ow) << 2;
}

// conv2d_bwd_weight for output planes of a multiple of 4 values (c3: 10x10; else it traps), read from the input
// (B,C,H,W) instead of the whole batch's patches: one image at a time, its patches packed
// (pack_patches) where they and its dout stay in cache, and the forward pass writes no patches.
// Blocks of 2 output channels x 4 patch rows keep 8 accumulators, whose sums wait in `acc` between
// images; every weight's products are summed in conv2d_bwd_weight's order (b, then p four at a
// time), so both give the same bits (test/kernels/conv.test.ts). Scratch (floats): acc
// 32 * ceil(OC/2) * ceil(C*K*K/4), patches 4 * ceil(C*K*K/4) * P.
export function conv2d_bwd_weight_packed(dweight: usize, dbias: usize, acc: usize, patches: usize, dout: usize, inp: usize,
  B: i32, C: i32, H: i32, W: i32, OC: i32, K: i32): void {
  const P = (H - K + 1) * (W - K + 1), R = C * K * K, NP = (R + 3) >> 2, chunks = P >> 2;
  if (P & 3) unreachable(); // the last P % 4 positions would be left out of dweight
  const chunkBytes = <usize>NP << 6, rowBytes = <usize>P << 2, pairs = (OC + 1) >> 1;
  zero_f32(acc, pairs * NP * 32);
  for (let i = 0; i < chunks; i++) zero_f32(patches + <usize>i * chunkBytes + (<usize>R << 4), (NP * 4 - R) * 4); // rows past R
  for (let b = 0; b < B; b++) {
    pack_patches(patches, inp, b, C, H, W, K);
    const g = at(dout, b * OC * P);
    for (let j = 0; j < NP; j++) { // a block of 4 patch rows stays in L1 while every channel pair reads it
      const y0 = patches + (<usize>j << 6), end = y0 + <usize>chunks * chunkBytes;
      for (let m = 0; m < OC; m += 2) {
        const s = acc + (<usize>((m >> 1) * NP + j) << 7);
        let c00 = v128.load(s), c01 = v128.load(s, 16), c02 = v128.load(s, 32), c03 = v128.load(s, 48);
        let c10 = v128.load(s, 64), c11 = v128.load(s, 80), c12 = v128.load(s, 96), c13 = v128.load(s, 112);
        let x0 = at(g, m * P), x1 = m + 1 < OC ? x0 + rowBytes : x0; // an odd last channel twice, kept once
        for (let y = y0; y < end; y += chunkBytes, x0 += 16, x1 += 16) {
          const u0 = v128.load(x0), u1 = v128.load(x1);
          const v0 = v128.load(y), v1 = v128.load(y, 16), v2 = v128.load(y, 32), v3 = v128.load(y, 48);
          c00 = madd(u0, v0, c00); c01 = madd(u0, v1, c01); c02 = madd(u0, v2, c02); c03 = madd(u0, v3, c03);
          c10 = madd(u1, v0, c10); c11 = madd(u1, v1, c11); c12 = madd(u1, v2, c12); c13 = madd(u1, v3, c13);
        }
        v128.store(s, c00); v128.store(s, c01, 16); v128.store(s, c02, 32); v128.store(s, c03, 48);
        v128.store(s, c10, 64); v128.store(s, c11, 80); v128.store(s, c12, 96); v128.store(s, c13, 112);
      }
    }
  }
  const zero: f32 = 0; // conv2d_bwd_weight adds its (empty) scalar tail: + 0 turns a -0 sum into +0
  for (let m = 0; m < OC; m++) {
    for (let n = 0; n < R; n++) {
      const v = acc + (<usize>((((m >> 1) * NP + (n >> 2)) << 3) + ((m & 1) << 2) + (n & 3)) << 4);
      const r = at(dweight, m * R + n);
      store<f32>(r, load<f32>(r) + (hsum(v128.load(v)) + zero));
    }
  }
  bias_grad_acc(dbias, dout, B, OC, P);
}

// conv2d_bwd_weight for 5x5 kernels whose output rows are a multiple of 4 wide (c1), read straight
// from the input (B,C,H,W) instead of from im2col's patches, so the forward pass needs no col:
// dweight[oc,c,kh,kw] += sum over b, oh, ow of dout[b,oc,oh,ow] * inp[b,c,oh+kh,ow+kw]. Each sum
// takes its products in conv2d_bwd_weight's order (b, then p = oh*OW + ow four at a time: with OW a
// multiple of 4 a vector never straddles two rows, and lane l holds the ow = l mod 4), so both give
// the same bits (test/kernels/conv.test.ts). One image at a time, so its dout and input stay in L1:
// the vector sums wait in `acc` (OC*C*K*K vectors of scratch) between images. Blocks of 2 output
// channels x taps 0-2 of one kernel row, then x taps 3-4: 6 and 4 accumulators, 5 and 4 loads (2
// channels x all 5 taps would keep 10: V8 hoists the 5 input loads and spills 3 accumulators every
// iteration, 38% of the ceiling; 1 channel x 5 taps reads 6 vectors for 5 products, 49%; this, 53%;
// and a loop per output row, with no counter per vector, 59%).
// An odd last channel is computed twice, into the same sums.
export function conv2d_bwd_weight_rows(dweight: usize, dbias: usize, acc: usize, dout: usize, inp: usize,
  B: i32, C: i32, H: i32, W: i32, OC: i32): void {
  const K = 5, OH = H - K + 1, OW = W - K + 1, P = OH * OW;
  if (OW & 3) unreachable(); // a row's last vector would run into the next row
  const rowSkip = <usize>(W - OW) << 2; // bytes from the end of one row's chunks to the next row
  const taps = C * K * K, tapsBytes = <usize>taps << 4, planeBytes = <usize>P << 2;
  zero_f32(acc, OC * taps * 4);
  for (let b = 0; b < B; b++) {
    for (let oc = 0; oc < OC; oc += 2) {
      const second = oc + 1 < OC;
      for (let c = 0; c < C; c++) {
        for (let kh = 0; kh < K; kh++) {
          const s = acc + (<usize>((oc * C + c) * K + kh) * 80), t = second ? s + tapsBytes : s;
          const d0 = at(dout, (b * OC + oc) * P), d1 = second ? d0 + planeBytes : d0, x0 = at(inp, ((b * C + c) * H + kh) * W);
          { // taps 0-2
            let a0 = v128.load(s), a1 = v128.load(s, 16), a2 = v128.load(s, 32), e0 = v128.load(t), e1 = v128.load(t, 16), e2 = v128.load(t, 32);
            let d = d0, f = d1, x = x0;
            for (let oh = 0; oh < OH; oh++, x += rowSkip) {
              for (const rowEnd = d + (<usize>OW << 2); d < rowEnd; d += 16, f += 16, x += 16) {
                const g = v128.load(d), h = v128.load(f), u0 = v128.load(x), u1 = v128.load(x, 4), u2 = v128.load(x, 8);
                a0 = madd(g, u0, a0); a1 = madd(g, u1, a1); a2 = madd(g, u2, a2);
                e0 = madd(h, u0, e0); e1 = madd(h, u1, e1); e2 = madd(h, u2, e2);
              }
            }
            v128.store(s, a0); v128.store(s, a1, 16); v128.store(s, a2, 32);
            v128.store(t, e0); v128.store(t, e1, 16); v128.store(t, e2, 32);
          }
          { // taps 3-4
            let a3 = v128.load(s, 48), a4 = v128.load(s, 64), e3 = v128.load(t, 48), e4 = v128.load(t, 64);
            let d = d0, f = d1, x = x0;
            for (let oh = 0; oh < OH; oh++, x += rowSkip) {
              for (const rowEnd = d + (<usize>OW << 2); d < rowEnd; d += 16, f += 16, x += 16) {
                const g = v128.load(d), h = v128.load(f), u3 = v128.load(x, 12), u4 = v128.load(x, 16);
                a3 = madd(g, u3, a3); a4 = madd(g, u4, a4); e3 = madd(h, u3, e3); e4 = madd(h, u4, e4);
              }
            }
            v128.store(s, a3, 48); v128.store(s, a4, 64); v128.store(t, e3, 48); v128.store(t, e4, 64);
          }
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
