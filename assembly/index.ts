// The module's export list: every kernel, and where free memory starts. Kernels take byte offsets
// into this module's memory (planned by src/wasm/arena.ts), never allocate, and keep nothing.
// The forward kernels (and heap_base) are inference.ts's list; here are the training ones besides,
// and the im2col + GEMM kernels (conv2d_fwd, conv2d_bwd_weight) that the direct ones are tested against.
export * from "./inference";
export { conv2d_tanh_pool_rows_keep } from "./conv2d_direct";
export { conv2d_fwd, conv2d_bwd_input, conv2d_bwd_input_scratch, conv2d_bwd_weight, conv2d_bwd_weight_rows, conv2d_bwd_weight_packed } from "./conv2d";
export { avgpool2d_bwd, avgpool2d_tanh_bwd } from "./avgpool";
export { dense_bwd_input, dense_bwd_weight } from "./dense";
export { tanh_bwd, squash_bwd } from "./activation";
export { subsample2d_bwd } from "./subsample";
export { rbf_bwd_input } from "./rbf";
export { softmax_xent_bwd } from "./softmax_xent";
export { adam_step } from "./adam";
export { add_f32, scale_f32, count_nonfinite } from "./simd";
