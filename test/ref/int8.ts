// Plain scalar references of the int8 inference kernels (assembly/int8.ts). The products are summed
// exactly (JS numbers hold these integer sums exactly); the dequantisation f32(acc) * scale + bias is
// rounded to f32 after each operation with Math.fround, as WebAssembly's f32 arithmetic does, so the
// kernels must match these bit for bit.

/** Round half to even, like f32.nearest. */
export function nearestEven(x: number): number {
  const r = Math.round(x); // halves go up
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** f32(acc) * scale + bias with f32 rounding after each operation. */
function dequant(acc: number, scale: number, bias: number): number {
  return Math.fround(Math.fround(Math.fround(acc) * scale) + bias);
}

// inp (n) f32 values -> out (n) int8 = clamp(nearestEven(f32(inp * invScale)), -127, 127)
export function quantize_i8_ref(inp: ArrayLike<number>, invScale: number): Int8Array {
  const s = Math.fround(invScale);
  return Int8Array.from(inp, (x) => Math.max(-127, Math.min(127, nearestEven(Math.fround(x * s)))));
}

// The convolution part of conv2d_tanh_pool_rows_i8 and conv2d_tanh_pool_pixels_i8: their dequantised
// sums, before tanh and pooling (the tests apply the module's tanh_i8_fwd and avgpool2d_fwd to it).
// inp (B,C,H,W) integers, weight (OC,C,K,K) integers, scale (OC), bias (OC) -> out (B,OC,OH,OW) f32
// ('valid', stride 1, cross-correlation)
export function conv2d_i8_ref(
  inp: ArrayLike<number>, weight: ArrayLike<number>, scale: ArrayLike<number>, bias: ArrayLike<number>,
  B: number, C: number, H: number, W: number, OC: number, K: number,
): Float32Array {
  const OH = H - K + 1, OW = W - K + 1;
  const out = new Float32Array(B * OC * OH * OW);
  for (let b = 0; b < B; b++)
    for (let oc = 0; oc < OC; oc++)
      for (let oy = 0; oy < OH; oy++)
        for (let ox = 0; ox < OW; ox++) {
          let acc = 0;
          for (let c = 0; c < C; c++)
            for (let ky = 0; ky < K; ky++)
              for (let kx = 0; kx < K; kx++)
                acc += inp[((b * C + c) * H + oy + ky) * W + ox + kx]! * weight[((oc * C + c) * K + ky) * K + kx]!;
          out[((b * OC + oc) * OH + oy) * OW + ox] = dequant(acc, scale[oc]!, bias[oc]!);
        }
  return out;
}

// inp (B,K) integers, weight (N,K) integers, scale (N), bias (N) -> out (B,N) f32
export function dense_fwd_i8_ref(
  inp: ArrayLike<number>, weight: ArrayLike<number>, scale: ArrayLike<number>, bias: ArrayLike<number>,
  B: number, K: number, N: number,
): Float32Array {
  const out = new Float32Array(B * N);
  for (let b = 0; b < B; b++)
    for (let n = 0; n < N; n++) {
      let acc = 0;
      for (let k = 0; k < K; k++) acc += inp[b * K + k]! * weight[n * K + k]!;
      out[b * N + n] = dequant(acc, scale[n]!, bias[n]!);
    }
  return out;
}
