// The module's export list: every kernel, and where free memory starts. Kernels take byte offsets
// into this module's memory (planned by src/wasm/arena.ts), never allocate, and keep nothing.
export { conv2d_fwd, conv2d_bwd_input, conv2d_bwd_weight } from "./conv2d";
export { conv2d_fwd_rows, conv2d_tanh_pool_rows, conv2d_fwd_pixels, conv2d_tanh_pool_pixels, conv2d_weight_t } from "./conv2d_direct";
export { avgpool2d_fwd, avgpool2d_bwd } from "./avgpool";
export { dense_fwd, dense_bwd_input, dense_bwd_weight } from "./dense";
export { tanh_fwd, tanh_bwd, squash_fwd, squash_bwd } from "./activation";
export { subsample2d_fwd, subsample2d_bwd } from "./subsample";
export { rbf_fwd, rbf_bwd_input } from "./rbf";
export { softmax_fwd, softmax_xent_fwd, softmax_xent_bwd } from "./softmax_xent";
export { adam_step } from "./adam";
export { images_to_input } from "./input";
export { add_f32, mul_f32, scale_f32, count_nonfinite } from "./simd";
export { quantize_i8, conv2d_tanh_pool_pixels_i8, conv2d_tanh_pool_pixels_i8_scratch, conv2d_tanh_pool_rows_i8, conv2d_tanh_pool_rows_i8_scratch, dense_fwd_i8 } from "./int8";

/** First byte after the module's static data: the arena starts here (16-byte aligned). */
export function heap_base(): usize {
  return (__heap_base + 15) & ~15;
}
