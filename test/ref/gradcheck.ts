// Central finite-difference helpers for checking gradients in float64.

/**
 * d L / d x[i] by central differences, (L(x + h e_i) - L(x - h e_i)) / 2h, for each i in `indices`
 * (default: all). x is perturbed in place and restored exactly afterwards.
 */
export function finiteDiff(
  L: () => number, x: Float64Array, indices?: Iterable<number>, h = 1e-6,
): Map<number, number> {
  const out = new Map<number, number>();
  const idx = indices ?? Array.from({ length: x.length }, (_, i) => i);
  for (const i of idx) {
    const orig = x[i];
    x[i] = orig + h;
    const lp = L();
    x[i] = orig - h;
    const lm = L();
    x[i] = orig;
    out.set(i, (lp - lm) / (2 * h));
  }
  return out;
}

/** sum_i g[i] * y[i]: scalar loss from an upstream gradient g. */
export function dot(g: Float64Array, y: Float64Array): number {
  if (g.length !== y.length) throw new Error(`dot: length mismatch ${g.length} vs ${y.length}`);
  let s = 0;
  for (let i = 0; i < g.length; i++) s += g[i] * y[i];
  return s;
}

/**
 * Worst violation of |analytic - numeric| <= atol + rtol * max(|analytic|, |numeric|), as a ratio
 * (<= 1 means every entry passes), plus the worst index.
 */
export function gradError(
  analytic: Float64Array, numeric: Map<number, number>, rtol = 1e-6, atol = 1e-7,
): { ratio: number; worst: number; analytic: number; numeric: number } {
  let res = { ratio: 0, worst: -1, analytic: NaN, numeric: NaN };
  for (const [i, n] of numeric) {
    const a = analytic[i];
    const r = Math.abs(a - n) / (atol + rtol * Math.max(Math.abs(a), Math.abs(n)));
    const ratio = Number.isNaN(r) ? Infinity : r; // NaN / missing entries always fail
    if (ratio > res.ratio) res = { ratio, worst: i, analytic: a, numeric: n };
  }
  return res;
}
