// Adam over one contiguous parameter block, Keras semantics (epsilon added to sqrt(v), not to the
// bias-corrected sqrt(v_hat)); the caller folds the bias corrections into alpha:
//   alpha = lr * sqrt(1 - beta2^t) / (1 - beta1^t)
import { at } from "./simd";

// params, grads, m, v: (n) f32, 16-byte aligned. Updates params, m, v in place; reads grads.
//   m += (g - m) * (1 - beta1);  v += (g*g - v) * (1 - beta2);  p -= alpha * m / (sqrt(v) + eps)
export function adam_step(params: usize, grads: usize, m: usize, v: usize, n: i32,
  alpha: f32, beta1: f32, beta2: f32, eps: f32): void {
  const c1 = f32x4.splat(1 - beta1), c2 = f32x4.splat(1 - beta2);
  const a = f32x4.splat(alpha), e = f32x4.splat(eps);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const g = v128.load(at(grads, i));
    let mv = v128.load(at(m, i)), vv = v128.load(at(v, i));
    mv = f32x4.add(mv, f32x4.mul(f32x4.sub(g, mv), c1));
    vv = f32x4.add(vv, f32x4.mul(f32x4.sub(f32x4.mul(g, g), vv), c2));
    v128.store(at(m, i), mv);
    v128.store(at(v, i), vv);
    const step = f32x4.div(f32x4.mul(a, mv), f32x4.add(f32x4.sqrt(vv), e));
    v128.store(at(params, i), f32x4.sub(v128.load(at(params, i)), step));
  }
  for (; i < n; i++) {
    const g = load<f32>(at(grads, i));
    const mi = load<f32>(at(m, i)) + (g - load<f32>(at(m, i))) * (1 - beta1);
    const vi = load<f32>(at(v, i)) + (g * g - load<f32>(at(v, i))) * (1 - beta2);
    store<f32>(at(m, i), mi);
    store<f32>(at(v, i), vi);
    store<f32>(at(params, i), load<f32>(at(params, i)) - (alpha * mi) / (Mathf.sqrt(vi) + eps));
  }
}
