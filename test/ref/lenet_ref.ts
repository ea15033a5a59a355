// Reference LeNet-5 in float64, built only from the scalar reference kernels.
//
// conv c1 6@5x5 pad 2 -> tanh -> avgpool 2x2 -> conv c3 16@5x5 pad 0 -> tanh -> avgpool 2x2
// -> flatten (C,H,W order, 400) -> dense f5 120 -> tanh -> dense f6 84 -> tanh -> dense out 10
// -> softmax + mean cross-entropy.

import {
  adam_step_ref,
  avgpool2d_bwd_ref,
  avgpool2d_fwd_ref,
  conv2d_bwd_weight_ref,
  conv2d_bwd_input_ref,
  conv2d_fwd_ref,
  dense_bwd_input_ref,
  dense_bwd_weight_ref,
  dense_fwd_ref,
  softmax_xent_bwd_ref,
  softmax_xent_fwd_ref,
  tanh_bwd_ref,
  tanh_fwd_ref,
} from "./kernels.js";

export interface LeNetParams {
  c1w: Float64Array;
  c1b: Float64Array;
  c3w: Float64Array;
  c3b: Float64Array;
  f5w: Float64Array;
  f5b: Float64Array;
  f6w: Float64Array;
  f6b: Float64Array;
  ow: Float64Array;
  ob: Float64Array;
}

export const LENET_SHAPES: Record<keyof LeNetParams, number[]> = {
  c1w: [6, 1, 5, 5],
  c1b: [6],
  c3w: [16, 6, 5, 5],
  c3b: [16],
  f5w: [120, 400],
  f5b: [120],
  f6w: [84, 120],
  f6b: [84],
  ow: [10, 84],
  ob: [10],
};

export const LENET_PARAM_NAMES = Object.keys(LENET_SHAPES) as (keyof LeNetParams)[];

/** Activations saved by the forward pass for the backward pass. */
export interface LeNetCache {
  x: Float64Array; //  (B,1,28,28) input images
  a1: Float64Array; // (B,6,28,28)  tanh(c1)
  p1: Float64Array; // (B,6,14,14)  avgpool(a1)
  a3: Float64Array; // (B,16,10,10) tanh(c3)
  p3: Float64Array; // (B,16,5,5) = (B,400) avgpool(a3), flattened in C,H,W order
  a5: Float64Array; // (B,120) tanh(f5)
  a6: Float64Array; // (B,84)  tanh(f6)
  probs: Float64Array; // (B,10) softmax(out)
}

// p params, images (B,1,28,28), labels (B) -> mean loss, probs (B,10), cache
export function lenet_forward_ref(
  p: LeNetParams, images: Float64Array, labels: Int32Array, B: number,
): { loss: number; probs: Float64Array; cache: LeNetCache } {
  const x = images;
  const a1 = tanh_fwd_ref(conv2d_fwd_ref(x, p.c1w, p.c1b, B, 1, 28, 28, 6, 5, 2)); // (B,6,28,28)
  const p1 = avgpool2d_fwd_ref(a1, B, 6, 28, 28); //                                  (B,6,14,14)
  const a3 = tanh_fwd_ref(conv2d_fwd_ref(p1, p.c3w, p.c3b, B, 6, 14, 14, 16, 5, 0)); // (B,16,10,10)
  const p3 = avgpool2d_fwd_ref(a3, B, 16, 10, 10); //                                 (B,16,5,5) = (B,400)
  const a5 = tanh_fwd_ref(dense_fwd_ref(p3, p.f5w, p.f5b, B, 400, 120)); //           (B,120)
  const a6 = tanh_fwd_ref(dense_fwd_ref(a5, p.f6w, p.f6b, B, 120, 84)); //            (B,84)
  const logits = dense_fwd_ref(a6, p.ow, p.ob, B, 84, 10); //                          (B,10)
  const { probs, loss } = softmax_xent_fwd_ref(logits, labels, B, 10);
  return { loss, probs, cache: { x, a1, p1, a3, p3, a5, a6, probs } };
}

// p params, cache from lenet_forward_ref, labels (B) -> gradients of the mean loss, same shapes as p
export function lenet_backward_ref(p: LeNetParams, cache: LeNetCache, labels: Int32Array, B: number): LeNetParams {
  const { x, a1, p1, a3, p3, a5, a6, probs } = cache;
  const dlogits = softmax_xent_bwd_ref(probs, labels, B, 10); //                   (B,10)
  const o = dense_bwd_weight_ref(dlogits, a6, B, 84, 10);
  const da6 = dense_bwd_input_ref(dlogits, p.ow, B, 84, 10); //                     (B,84)
  const dz6 = tanh_bwd_ref(da6, a6);
  const f6 = dense_bwd_weight_ref(dz6, a5, B, 120, 84);
  const da5 = dense_bwd_input_ref(dz6, p.f6w, B, 120, 84); //                       (B,120)
  const dz5 = tanh_bwd_ref(da5, a5);
  const f5 = dense_bwd_weight_ref(dz5, p3, B, 400, 120);
  const dp3 = dense_bwd_input_ref(dz5, p.f5w, B, 400, 120); //                      (B,400) = (B,16,5,5)
  const da3 = avgpool2d_bwd_ref(dp3, B, 16, 10, 10); //                             (B,16,10,10)
  const dz3 = tanh_bwd_ref(da3, a3);
  const c3 = conv2d_bwd_weight_ref(dz3, p1, B, 6, 14, 14, 16, 5, 0);
  const dp1 = conv2d_bwd_input_ref(dz3, p.c3w, B, 6, 14, 14, 16, 5, 0); //          (B,6,14,14)
  const da1 = avgpool2d_bwd_ref(dp1, B, 6, 28, 28); //                              (B,6,28,28)
  const dz1 = tanh_bwd_ref(da1, a1);
  const c1 = conv2d_bwd_weight_ref(dz1, x, B, 1, 28, 28, 6, 5, 2);
  return {
    c1w: c1.dweight, c1b: c1.dbias,
    c3w: c3.dweight, c3b: c3.dbias,
    f5w: f5.dweight, f5b: f5.dbias,
    f6w: f6.dweight, f6b: f6.dbias,
    ow: o.dweight, ob: o.dbias,
  };
}

export interface AdamHyperParams {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
}

// p (updated in place), state (m, v updated in place; t incremented before the step), images (B,1,28,28), labels (B)
// -> mean loss before the update
export function lenet_train_step_ref(
  p: LeNetParams,
  state: { m: LeNetParams; v: LeNetParams; t: number },
  images: Float64Array,
  labels: Int32Array,
  B: number,
  hp: AdamHyperParams = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-7 },
): number {
  const { loss, cache } = lenet_forward_ref(p, images, labels, B);
  const grads = lenet_backward_ref(p, cache, labels, B);
  state.t += 1;
  for (const name of LENET_PARAM_NAMES) {
    adam_step_ref(p[name], grads[name], state.m[name], state.v[name], state.t, hp.lr, hp.beta1, hp.beta2, hp.eps);
  }
  return loss;
}

// -> a LeNetParams of zero tensors (e.g. Adam m and v state)
export function lenet_zero_params(): LeNetParams {
  const p = {} as LeNetParams;
  for (const name of LENET_PARAM_NAMES) p[name] = new Float64Array(LENET_SHAPES[name].reduce((a, b) => a * b, 1));
  return p;
}

// rng uniform [0,1) -> Glorot-uniform weights (fan_in = C*K*K or K, fan_out = OC*K*K or N), biases uniform +-biasScale
export function lenet_random_params(rng: () => number, biasScale = 0): LeNetParams {
  const p = lenet_zero_params();
  for (const name of LENET_PARAM_NAMES) {
    const shape = LENET_SHAPES[name];
    const arr = p[name];
    let limit = biasScale;
    if (shape.length > 1) {
      const receptive = shape.slice(2).reduce((a, b) => a * b, 1);
      limit = Math.sqrt(6 / ((shape[0] + shape[1]) * receptive));
    }
    for (let i = 0; i < arr.length; i++) arr[i] = (2 * rng() - 1) * limit;
  }
  return p;
}
