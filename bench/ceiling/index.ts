// The WASM SIMD ceiling on this machine: the inner loop of a register-blocked matrix product, the
// shape of every kernel's hot loop. 12 independent f32x4 accumulators, each adding the product of
// a loaded vector and a broadcast scalar (mul then add, no FMA: the kernels' arithmetic), with all
// operands in L1, so only the arithmetic can limit it. Each accumulator is only added to (a product
// never depends on an accumulator), and 12 chains in flight hide the add's latency: the loop measures
// the throughput of mul + add, the most a kernel's blocked loop can reach, not their latency.
// Built by `npm run bench` into build/ceiling.wasm; the ceiling is the better of peak() and peakHeld().
const BUF = memory.data(64 * 64 + 64, 16);

export function peak(iterations: i32): f32 {
  for (let i = 0; i < (64 * 64 + 64) >> 2; i++) store<f32>(BUF + (<usize>i << 2), 1e-3);
  let c00 = f32x4.splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
  let c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
  let x = BUF;
  // 2 vectors x 6 broadcasts per pass: 12 accumulators + 2 vectors + a scalar + a product is 16
  // registers, one more than V8 leaves free on x86, so one accumulator is spilled (and reloaded)
  // every pass and bounds the loop there; peakHeld() keeps 8. The address walks a
  // 4 KB ring so the loads cannot be hoisted out of the loop.
  for (let i = 0; i < iterations; i++, x = BUF + (<usize>(i & 63) << 6)) {
    const v0 = v128.load(x), v1 = v128.load(x, 16);
    let s = v128.load32_splat(x, 32);
    c00 = f32x4.add(f32x4.mul(s, v0), c00); c01 = f32x4.add(f32x4.mul(s, v1), c01);
    s = v128.load32_splat(x, 36);
    c10 = f32x4.add(f32x4.mul(s, v0), c10); c11 = f32x4.add(f32x4.mul(s, v1), c11);
    s = v128.load32_splat(x, 40);
    c20 = f32x4.add(f32x4.mul(s, v0), c20); c21 = f32x4.add(f32x4.mul(s, v1), c21);
    s = v128.load32_splat(x, 44);
    c30 = f32x4.add(f32x4.mul(s, v0), c30); c31 = f32x4.add(f32x4.mul(s, v1), c31);
    s = v128.load32_splat(x, 48);
    c40 = f32x4.add(f32x4.mul(s, v0), c40); c41 = f32x4.add(f32x4.mul(s, v1), c41);
    s = v128.load32_splat(x, 52);
    c50 = f32x4.add(f32x4.mul(s, v0), c50); c51 = f32x4.add(f32x4.mul(s, v1), c51);
  }
  const s = f32x4.add(f32x4.add(f32x4.add(c00, c01), f32x4.add(c10, c11)), f32x4.add(f32x4.add(c20, c21), f32x4.add(c30, c31)));
  return f32x4.extract_lane(f32x4.add(s, f32x4.add(f32x4.add(c40, c41), f32x4.add(c50, c51))), 0);
}

/**
 * The same arithmetic with the broadcasts out of the loop: 8 accumulators, each adding the product
 * of a loaded vector and one of 4 scalars held in registers (8 + 4 + 2 = 14 registers: no spills).
 * Where peak() spills (x86: V8 keeps one of the 16 vector registers for itself), it is limited by
 * that and kernels exceed it: the ceiling is the better of the two loops.
 */
export function peakHeld(iterations: i32): f32 {
  for (let i = 0; i < (64 * 64 + 64) >> 2; i++) store<f32>(BUF + (<usize>i << 2), 1e-3);
  const s0 = v128.load32_splat(BUF, 32), s1 = v128.load32_splat(BUF, 36), s2 = v128.load32_splat(BUF, 40), s3 = v128.load32_splat(BUF, 44);
  let c00 = f32x4.splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  let x = BUF;
  for (let i = 0; i < iterations; i++, x = BUF + (<usize>(i & 63) << 6)) {
    const v0 = v128.load(x), v1 = v128.load(x, 16);
    c00 = f32x4.add(f32x4.mul(s0, v0), c00); c01 = f32x4.add(f32x4.mul(s0, v1), c01);
    c10 = f32x4.add(f32x4.mul(s1, v0), c10); c11 = f32x4.add(f32x4.mul(s1, v1), c11);
    c20 = f32x4.add(f32x4.mul(s2, v0), c20); c21 = f32x4.add(f32x4.mul(s2, v1), c21);
    c30 = f32x4.add(f32x4.mul(s3, v0), c30); c31 = f32x4.add(f32x4.mul(s3, v1), c31);
  }
  const s = f32x4.add(f32x4.add(f32x4.add(c00, c01), f32x4.add(c10, c11)), f32x4.add(f32x4.add(c20, c21), f32x4.add(c30, c31)));
  return f32x4.extract_lane(s, 0);
}
