// The 1998 LeNet-5 (src/architectures.ts's LENET5_1998) in float64, built from the reference kernels:
// the oracle for the WASM model in test/model/model1998.test.ts.
import {
  conv2d_bwd_weight_ref, conv2d_bwd_input_ref, conv2d_fwd_ref, dense_bwd_input_ref, dense_bwd_weight_ref, dense_fwd_ref,
  rbf_bwd_input_ref, rbf_fwd_ref, softmax_xent_bwd_ref, softmax_xent_fwd_ref, squash_bwd_ref, squash_fwd_ref,
  subsample2d_bwd_ref, subsample2d_fwd_ref,
} from "./kernels.js";

export type Params1998 = Record<string, Float64Array>;

/**
 * Forward pass of B images given as 32x32 inputs already scaled and padded (-0.1 border): returns the
 * mean MAP loss, the softmax over the 11 logits, and what backward needs.
 */
export function lenet1998_forward_ref(p: Params1998, mask: ArrayLike<number>, codes: Float64Array, rubbish: number,
  input: Float64Array, labels: Int32Array, B: number) {
  const c3w = p["c3.weight"]!.map((w, i) => w * mask[i]!);
  const c1 = squash_fwd_ref(conv2d_fwd_ref(input, p["c1.weight"]!, p["c1.bias"]!, B, 1, 32, 32, 6, 5, 0));
  const s2 = squash_fwd_ref(subsample2d_fwd_ref(c1, p["s2.weight"]!, p["s2.bias"]!, B, 6, 28, 28));
  const c3 = squash_fwd_ref(conv2d_fwd_ref(s2, c3w, p["c3.bias"]!, B, 6, 14, 14, 16, 5, 0));
  const s4 = squash_fwd_ref(subsample2d_fwd_ref(c3, p["s4.weight"]!, p["s4.bias"]!, B, 16, 10, 10));
  const c5 = squash_fwd_ref(dense_fwd_ref(s4, p["c5.weight"]!, p["c5.bias"]!, B, 400, 120));
  const f6 = squash_fwd_ref(dense_fwd_ref(c5, p["f6.weight"]!, p["f6.bias"]!, B, 120, 84));
  const logits = rbf_fwd_ref(f6, codes, B, 84, 10, rubbish);
  const { probs, loss } = softmax_xent_fwd_ref(logits, labels, B, 11);
  return { loss, probs, cache: { input, c3w, c1, s2, c3, s4, c5, f6 } };
}

/** Gradients of the mean loss w.r.t. every parameter (C3's masked to the connection table). */
export function lenet1998_backward_ref(p: Params1998, mask: ArrayLike<number>, codes: Float64Array, labels: Int32Array, B: number,
  probs: Float64Array, cache: ReturnType<typeof lenet1998_forward_ref>["cache"]): Params1998 {
  const { input, c3w, c1, s2, c3, s4, c5, f6 } = cache;
  const g: Params1998 = {};
  const dlogits = softmax_xent_bwd_ref(probs, labels, B, 11);
  const df6 = squash_bwd_ref(rbf_bwd_input_ref(dlogits, f6, codes, B, 84, 10), f6);
  ({ dweight: g["f6.weight"]!, dbias: g["f6.bias"]! } = dense_bwd_weight_ref(df6, c5, B, 120, 84));
  const dc5 = squash_bwd_ref(dense_bwd_input_ref(df6, p["f6.weight"]!, B, 120, 84), c5);
  ({ dweight: g["c5.weight"]!, dbias: g["c5.bias"]! } = dense_bwd_weight_ref(dc5, s4, B, 400, 120));
  const ds4 = squash_bwd_ref(dense_bwd_input_ref(dc5, p["c5.weight"]!, B, 400, 120), s4);
  const sub4 = subsample2d_bwd_ref(ds4, c3, p["s4.weight"]!, B, 16, 10, 10);
  g["s4.weight"] = sub4.dcoef; g["s4.bias"] = sub4.dbias;
  const dc3 = squash_bwd_ref(sub4.dinp, c3);
  const f3 = conv2d_bwd_weight_ref(dc3, s2, B, 6, 14, 14, 16, 5, 0);
  g["c3.weight"] = f3.dweight.map((d, i) => d * mask[i]!); g["c3.bias"] = f3.dbias;
  const ds2 = squash_bwd_ref(conv2d_bwd_input_ref(dc3, c3w, B, 6, 14, 14, 16, 5, 0), s2);
  const sub2 = subsample2d_bwd_ref(ds2, c1, p["s2.weight"]!, B, 6, 28, 28);
  g["s2.weight"] = sub2.dcoef; g["s2.bias"] = sub2.dbias;
  const dc1 = squash_bwd_ref(sub2.dinp, c1);
  ({ dweight: g["c1.weight"]!, dbias: g["c1.bias"]! } = conv2d_bwd_weight_ref(dc1, input, B, 1, 32, 32, 6, 5, 0));
  return g;
}
