// The inference module's export list: the forward kernels of the three networks (f32 and int8) and
// where free memory starts. build/lenet.inference.wasm, inlined into the browser's inference bundle
// (lenet-wasm/inference), so that a page that only classifies loads no training kernel.
// index.ts (the whole module) exports all of these and the training kernels.
export { conv2d_fwd_rows, conv2d_tanh_pool_rows, conv2d_fwd_pixels, conv2d_tanh_pool_pixels, conv2d_weight_t } from "./conv2d_direct";
export { avgpool2d_fwd } from "./avgpool";
export { dense_fwd } from "./dense";
export { tanh_fwd, tanh_i8_fwd, squash_fwd } from "./activation";
export { subsample2d_fwd } from "./subsample";
export { rbf_fwd } from "./rbf";
export { softmax_fwd, softmax_xent_fwd } from "./softmax_xent";
export { images_to_input, pixels_to_slots } from "./input";
export { mask_f32 } from "./simd"; // the 1998 network's weights are masked by its connection table when set
export { quantize_i8, conv2d_tanh_pool_pixels_i8, conv2d_tanh_pool_pixels_i8_scratch, conv2d_tanh_pool_rows_i8, conv2d_tanh_pool_rows_i8_scratch, dense_fwd_i8 } from "./int8";

/** First byte after the module's static data: the arena starts here (16-byte aligned). */
export function heap_base(): usize {
  return (__heap_base + 15) & ~15;
}
