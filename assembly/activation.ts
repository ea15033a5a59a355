// tanh and its gradient, f32, elementwise; in place is allowed (out == inp, dinp == dout).
import { at } from "./simd";

// tanh(x) as x p(x^2) / q(x^2) on x clamped to [-CLAMP, CLAMP], p of degree 3 and q of degree 4 in
// x^2 with p(0) = q(0) = 1, coefficients fitted for the smallest largest error in f32: 6.4e-7 of
// Math.tanh (the test's bound is 1e-6: test/kernels/elementwise.test.ts). Mul, add and div only, no
// FMA, so every engine computes the same bits. Because p(0) = q(0) = 1, small x needs no select:
// below 3.5e-4 q rounds to 1 and x p to x, so tanh(x) == x (subnormals too). CLAMP is the first f32
// at which p/q rounds to 1 (below it p/q < 1), so tanh saturates to exactly +-1 and never passes it.
// 19 vector ops where Eigen's rational of degrees 13 and 6 with a select, which this replaced, took
// 25: the bench's tanh_fwd row is 1.6-1.9x faster (docs/benchmarks.md).
// @ts-ignore: decorator
@inline const CLAMP: f32 = 7.91033935546875;
// @ts-ignore: decorator
@inline const A2: f32 = 0.1286037713289261;
// @ts-ignore: decorator
@inline const A4: f32 = 0.0028814454562962055;
// @ts-ignore: decorator
@inline const A6: f32 = 1.0694008778955322e-05;
// @ts-ignore: decorator
@inline const B2: f32 = 0.4619351029396057;
// @ts-ignore: decorator
@inline const B4: f32 = 0.023529306054115295;
// @ts-ignore: decorator
@inline const B6: f32 = 0.000228928925935179;
// @ts-ignore: decorator
@inline const B8: f32 = 2.228678823712471e-07;

/** f32x4 tanh. With `i8` (a constant where it is inlined), tanh_i8_v. */
// @ts-ignore: decorator
@inline export function tanh_v(a: v128, i8: bool = false): v128 {
  if (i8) return tanh_i8_v(a);
  // pmin/pmax are one x86 instruction each; min/max take seven (their NaN and -0 rules), and for a
  // clamp to +-CLAMP they agree on every input (NaN stays NaN).
  const x = f32x4.pmax(f32x4.pmin(a, f32x4.splat(CLAMP)), f32x4.splat(-CLAMP));
  const x2 = f32x4.mul(x, x);
  let p = f32x4.add(f32x4.mul(x2, f32x4.splat(A6)), f32x4.splat(A4));
  p = f32x4.add(f32x4.mul(x2, p), f32x4.splat(A2));
  p = f32x4.mul(x, f32x4.add(f32x4.mul(x2, p), f32x4.splat(1)));
  let q = f32x4.add(f32x4.mul(x2, f32x4.splat(B8)), f32x4.splat(B6));
  q = f32x4.add(f32x4.mul(x2, q), f32x4.splat(B4));
  q = f32x4.add(f32x4.mul(x2, q), f32x4.splat(B2));
  q = f32x4.add(f32x4.mul(x2, q), f32x4.splat(1));
  return f32x4.div(p, q);
}

// The int8 models' tanh: x p(x^2) / q(x^2), p of degree 2 and q of degree 3 in x^2, on x clamped to
// [-6, 6]; the coefficients were fitted for the smallest largest error. Its largest error against
// Math.tanh is 1.4e-5 (test/kernels/elementwise.test.ts), under 1/500 of the int8 step (1/127) that
// every tanh output of an int8 model is quantised to or compared at. It takes 2 fewer multiply-add
// steps than tanh_v (int8 inference was 1.135x faster with it than with the tanh_v of the time, of
// degrees 13 and 6 with a select: docs/int8.md). The f32 model keeps tanh_v, whose bits training
// and inference share.
// @ts-ignore: decorator
@inline const I8_CLAMP: f32 = 6;
// @ts-ignore: decorator
@inline const P1: f32 = 0.999968708;
// @ts-ignore: decorator
@inline const P3: f32 = 0.114319608;
// @ts-ignore: decorator
@inline const P5: f32 = 0.00148596684;
// @ts-ignore: decorator
@inline const Q2: f32 = 0.447554111;
// @ts-ignore: decorator
@inline const Q4: f32 = 0.017430285;
// @ts-ignore: decorator
@inline const Q6: f32 = 5.45850744e-5;

// @ts-ignore: decorator
@inline export function tanh_i8_v(a: v128): v128 {
  const x = f32x4.pmax(f32x4.pmin(a, f32x4.splat(I8_CLAMP)), f32x4.splat(-I8_CLAMP));
  const x2 = f32x4.mul(x, x);
  let p = f32x4.add(f32x4.mul(x2, f32x4.splat(P5)), f32x4.splat(P3));
  p = f32x4.mul(x, f32x4.add(f32x4.mul(x2, p), f32x4.splat(P1)));
  let q = f32x4.add(f32x4.mul(x2, f32x4.splat(Q6)), f32x4.splat(Q4));
  q = f32x4.add(f32x4.mul(x2, q), f32x4.splat(Q2));
  q = f32x4.add(f32x4.mul(x2, q), f32x4.splat(1));
  return f32x4.div(p, q);
}

// inp (n) -> out (n) = tanh(inp); overwrites out. The tail runs the same vector code on one lane.
export function tanh_fwd(out: usize, inp: usize, n: i32): void {
  tanh_map(out, inp, n, false);
}

// inp (n) -> out (n) = tanh_i8_v(inp): tanh_fwd in the int8 models; overwrites out.
export function tanh_i8_fwd(out: usize, inp: usize, n: i32): void {
  tanh_map(out, inp, n, true);
}

// @ts-ignore: decorator
@inline function tanh_map(out: usize, inp: usize, n: i32, i8: bool): void {
  let i = 0;
  // Two independent vectors per pass: the division's latency overlaps with the other's polynomial.
  for (; i + 8 <= n; i += 8) {
    const a = tanh_v(v128.load(at(inp, i)), i8), b = tanh_v(v128.load(at(inp, i + 4)), i8);
    v128.store(at(out, i), a);
    v128.store(at(out, i + 4), b);
  }
  for (; i + 4 <= n; i += 4) v128.store(at(out, i), tanh_v(v128.load(at(inp, i)), i8));
  for (; i < n; i++) store<f32>(at(out, i), f32x4.extract_lane(tanh_v(f32x4.splat(load<f32>(at(inp, i))), i8), 0));
}

// d * (1 - y^2), y = tanh's output: tanh's backward step, on a vector and on one value (tanh_bwd's,
// and avgpool2d_tanh_bwd's after the pooling's step: the same bits).
// @ts-ignore: decorator
@inline export function tanh_grad_v(d: v128, y: v128): v128 {
  return f32x4.mul(d, f32x4.sub(f32x4.splat(1), f32x4.mul(y, y)));
}
// @ts-ignore: decorator
@inline export function tanh_grad(d: f32, y: f32): f32 {
  return d * (1 - y * y);
}

// dout (n), out = tanh(inp) (n) -> dinp (n) = dout * (1 - out^2); overwrites dinp.
export function tanh_bwd(dinp: usize, dout: usize, out: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(at(dinp, i), tanh_grad_v(v128.load(at(dout, i)), v128.load(at(out, i))));
  for (; i < n; i++) store<f32>(at(dinp, i), tanh_grad(load<f32>(at(dout, i)), load<f32>(at(out, i))));
}

// The 1998 LeNet-5's squashing function f(a) = A tanh(S a), A = 1.7159, S = 2/3 (the paper's
// appendix A: f(1) = 1, f(-1) = -1, and the second derivative is largest at +-1).
// @ts-ignore: decorator
@inline const SQUASH_A: f32 = 1.7159;
// @ts-ignore: decorator
@inline const SQUASH_S: f32 = 0.6666666666666666;

// inp (n) -> out (n) = A tanh(S inp); overwrites out.
export function squash_fwd(out: usize, inp: usize, n: i32): void {
  const a = f32x4.splat(SQUASH_A), s = f32x4.splat(SQUASH_S);
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const u = tanh_v(f32x4.mul(s, v128.load(at(inp, i)))), v = tanh_v(f32x4.mul(s, v128.load(at(inp, i + 4))));
    v128.store(at(out, i), f32x4.mul(a, u));
    v128.store(at(out, i + 4), f32x4.mul(a, v));
  }
  for (; i + 4 <= n; i += 4) v128.store(at(out, i), f32x4.mul(a, tanh_v(f32x4.mul(s, v128.load(at(inp, i))))));
  for (; i < n; i++) {
    store<f32>(at(out, i), f32x4.extract_lane(f32x4.mul(a, tanh_v(f32x4.splat(SQUASH_S * load<f32>(at(inp, i))))), 0));
  }
}

// dout (n), out = squash(inp) (n) -> dinp (n) = dout * (S/A) (A^2 - out^2); overwrites dinp.
export function squash_bwd(dinp: usize, dout: usize, out: usize, n: i32): void {
  const a2 = f32x4.splat(SQUASH_A * SQUASH_A), k = f32x4.splat(SQUASH_S / SQUASH_A);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const y = v128.load(at(out, i));
    v128.store(at(dinp, i), f32x4.mul(v128.load(at(dout, i)), f32x4.mul(k, f32x4.sub(a2, f32x4.mul(y, y)))));
  }
  for (; i < n; i++) {
    const y = load<f32>(at(out, i));
    store<f32>(at(dinp, i), load<f32>(at(dout, i)) * ((SQUASH_S / SQUASH_A) * (SQUASH_A * SQUASH_A - y * y)));
  }
}
