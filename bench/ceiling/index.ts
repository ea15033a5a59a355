// The WASM SIMD ceiling on this machine: 12 independent f32x4 multiply+add chains (no FMA, as in
// the kernels), enough to hide the add latency. Built by `npm run bench` into build/ceiling.wasm.
export function peak(iterations: i32): f32 {
  const m = f32x4.splat(0.999999);
  const a = f32x4.splat(1e-7);
  let c0 = f32x4.splat(1), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0;
  let c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0;
  for (let i = 0; i < iterations; i++) {
    c0 = f32x4.add(f32x4.mul(c0, m), a); c1 = f32x4.add(f32x4.mul(c1, m), a);
    c2 = f32x4.add(f32x4.mul(c2, m), a); c3 = f32x4.add(f32x4.mul(c3, m), a);
    c4 = f32x4.add(f32x4.mul(c4, m), a); c5 = f32x4.add(f32x4.mul(c5, m), a);
    c6 = f32x4.add(f32x4.mul(c6, m), a); c7 = f32x4.add(f32x4.mul(c7, m), a);
    c8 = f32x4.add(f32x4.mul(c8, m), a); c9 = f32x4.add(f32x4.mul(c9, m), a);
    c10 = f32x4.add(f32x4.mul(c10, m), a); c11 = f32x4.add(f32x4.mul(c11, m), a);
  }
  const s = f32x4.add(f32x4.add(f32x4.add(c0, c1), f32x4.add(c2, c3)), f32x4.add(f32x4.add(c4, c5), f32x4.add(c6, c7)));
  return f32x4.extract_lane(f32x4.add(s, f32x4.add(f32x4.add(c8, c9), f32x4.add(c10, c11))), 0);
}
