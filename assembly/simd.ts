// Inline helpers shared by the kernels. Every kernel sums in the same fixed order whether a value is
// computed in a SIMD lane or in a scalar tail, so results do not depend on which path ran.

/** Horizontal sum in a fixed order: (l0 + l1) + (l2 + l3). */
// @ts-ignore: decorator
@inline export function hsum(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) +
    (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

/** Address of element `i` of an f32 array at `base`. */
// @ts-ignore: decorator
@inline export function at(base: usize, i: i32): usize {
  return base + (<usize>i << 2);
}

/** Sets n f32 values at dst to zero (SIMD body, scalar tail). */
export function zero_f32(dst: usize, n: i32): void {
  const z = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(at(dst, i), z);
  for (; i < n; i++) store<f32>(at(dst, i), 0);
}

// src (n) -> dst (n) += src; f32, 16-byte aligned. Sums shard gradients in multi-core training.
export function add_f32(dst: usize, src: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(at(dst, i), f32x4.add(v128.load(at(dst, i)), v128.load(at(src, i))));
  for (; i < n; i++) store<f32>(at(dst, i), load<f32>(at(dst, i)) + load<f32>(at(src, i)));
}

// dst (n) = +0 where mask (n) is 0, else unchanged; f32, 16-byte aligned. Applies C3's connection
// table. +0, not dst * 0 (-0 for a negative value): a shard's gradient masked before it is added
// (another thread's) then gives the same bits as the sum masked after it.
export function mask_f32(dst: usize, mask: usize, n: i32): void {
  const zero = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(at(dst, i), v128.andnot(v128.load(at(dst, i)), f32x4.eq(v128.load(at(mask, i)), zero)));
  for (; i < n; i++) if (load<f32>(at(mask, i)) == 0) store<f32>(at(dst, i), 0);
}

// x (n) *= factor; f32, 16-byte aligned. Decoupled weight decay (AdamW) before an Adam step.
export function scale_f32(x: usize, n: i32, factor: f32): void {
  const f = f32x4.splat(factor);
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(at(x, i), f32x4.mul(v128.load(at(x, i)), f));
  for (; i < n; i++) store<f32>(at(x, i), load<f32>(at(x, i)) * factor);
}

/**
 * a * b + c. In the default build two rounded operations (identical bits on every engine); in the
 * relaxed-SIMD build (--fast-math) f32x4.relaxed_madd, fused where the hardware has FMA, so the
 * bits depend on the machine.
 */
// @ts-ignore: decorator
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

// x (n) -> how many of its values are NaN or +-Infinity (the training loop's numerical guard).
export function count_nonfinite(x: usize, n: i32): i32 {
  // x - x is 0 for finite x and NaN for NaN or +-Infinity; NaN != NaN marks a lane all ones (-1).
  let bad = i32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const v = v128.load(at(x, i));
    const d = f32x4.sub(v, v);
    bad = i32x4.sub(bad, f32x4.ne(d, d));
  }
  let count = i32x4.extract_lane(bad, 0) + i32x4.extract_lane(bad, 1) + i32x4.extract_lane(bad, 2) + i32x4.extract_lane(bad, 3);
  for (; i < n; i++) {
    const v = load<f32>(at(x, i));
    if (!isFinite(v)) count++;
  }
  return count;
}

// Stores the 4 lanes of v at one pixel of 4 consecutive channel planes, `plane` bytes apart (the
// kernels that keep output channels in the lanes).
// @ts-ignore: decorator
@inline export function store_channels(o: usize, v: v128, plane: usize): void {
  v128.store32_lane(o, v, 0); v128.store32_lane(o + plane, v, 1);
  v128.store32_lane(o + 2 * plane, v, 2); v128.store32_lane(o + 3 * plane, v, 3);
}
