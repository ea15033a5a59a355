// Loads and instantiates the kernel module (build/lenet.wasm) in Node or a browser, and gives it a
// typed interface. Where the module is found is files.ts (Node) or files.browser.ts (bundle).
import { instantiate } from "@assemblyscript/loader";
import { defaultWasm, defaultWasmUrl, readLocal, relaxedWasmUrl } from "./files.js";

export { defaultWasmUrl, relaxedWasmUrl };

/** Pointers are byte offsets into the module's memory; dimensions are element counts. */
export interface Kernels {
  readonly memory: WebAssembly.Memory;
  heap_base(): number;
  conv2d_fwd(out: number, col: number, inp: number, weight: number, bias: number, B: number, C: number, H: number, W: number, OC: number, K: number, keepCol: boolean): void;
  conv2d_fwd_rows(out: number, inp: number, weight: number, bias: number, B: number, C: number, H: number, W: number, OC: number, K: number): void;
  conv2d_tanh_pool_rows(out: number, inp: number, weight: number, bias: number, B: number, C: number, H: number, W: number, OC: number, K: number): void;
  /** The whole module only (not the inference module). */
  conv2d_tanh_pool_rows_keep?(out: number, act: number, inp: number, weight: number, bias: number, B: number, C: number, H: number, W: number, OC: number, K: number): void;
  conv2d_fwd_pixels(out: number, inp: number, weightT: number, bias: number, B: number, C: number, H: number, W: number, OC: number, K: number): void;
  conv2d_tanh_pool_pixels(out: number, inp: number, weightT: number, bias: number, B: number, C: number, H: number, W: number, OC: number, K: number): void;
  conv2d_weight_t(weightT: number, weight: number, OC: number, R: number): void;
  conv2d_bwd_input(dinp: number, scratch: number, dout: number, weight: number, B: number, C: number, H: number, W: number, OC: number, K: number): void;
  conv2d_bwd_input_scratch(C: number, H: number, W: number, K: number): number;
  conv2d_bwd_weight(dweight: number, dbias: number, dout: number, col: number, B: number, C: number, H: number, W: number, OC: number, K: number): void;
  conv2d_bwd_weight_rows(dweight: number, dbias: number, acc: number, dout: number, inp: number, B: number, C: number, H: number, W: number, OC: number): void;
  conv2d_bwd_weight_packed(dweight: number, dbias: number, acc: number, patches: number, dout: number, inp: number, B: number, C: number, H: number, W: number, OC: number, K: number): void;
  avgpool2d_fwd(out: number, inp: number, B: number, C: number, H: number, W: number): void;
  avgpool2d_bwd(dinp: number, dout: number, B: number, C: number, H: number, W: number): void;
  avgpool2d_tanh_bwd(dinp: number, dout: number, out: number, B: number, C: number, H: number, W: number): void;
  dense_fwd(out: number, inp: number, weight: number, bias: number, B: number, K: number, N: number): void;
  dense_bwd_input(dinp: number, dout: number, weight: number, B: number, K: number, N: number): void;
  dense_bwd_weight(dweight: number, dbias: number, dout: number, inp: number, B: number, K: number, N: number): void;
  tanh_fwd(out: number, inp: number, n: number): void;
  tanh_i8_fwd(out: number, inp: number, n: number): void;
  tanh_bwd(dinp: number, dout: number, out: number, n: number): void;
  squash_fwd(out: number, inp: number, n: number): void;
  squash_bwd(dinp: number, dout: number, out: number, n: number): void;
  subsample2d_fwd(out: number, inp: number, coef: number, bias: number, B: number, C: number, H: number, W: number): void;
  subsample2d_bwd(dinp: number, dcoef: number, dbias: number, dout: number, inp: number, coef: number, B: number, C: number, H: number, W: number): void;
  rbf_fwd(logits: number, inp: number, centres: number, B: number, N: number, C: number, rubbish: number): void;
  rbf_bwd_input(dinp: number, dlogits: number, inp: number, centres: number, B: number, N: number, C: number): void;
  softmax_fwd(probs: number, logits: number, B: number, N: number): void;
  softmax_xent_fwd(probs: number, logits: number, labels: number, B: number, N: number): number;
  softmax_xent_bwd(dlogits: number, probs: number, labels: number, B: number, N: number, scale: number): void;
  add_f32(dst: number, src: number, n: number): void;
  mask_f32(dst: number, mask: number, n: number): void;
  images_to_input(input: number, pixels: number, table: number, B: number, side: number, slot: number): void;
  pixels_to_slots(slots: number, pixels: number, B: number, side: number, slot: number): void;
  scale_f32(x: number, n: number, factor: number): void;
  count_nonfinite(x: number, n: number): number;
  adam_step(params: number, grads: number, m: number, v: number, n: number, alpha: number, beta1: number, beta2: number, eps: number): void;
  quantize_i8(out: number, inp: number, n: number, invScale: number): void;
  conv2d_tanh_pool_rows_i8_scratch(C: number, H: number, W: number): number;
  conv2d_tanh_pool_rows_i8(out: number, scratch: number, inp: number, weight: number, scale: number, bias: number, B: number, C: number, H: number, W: number, OC: number, K: number, unsigned: boolean): void;
  conv2d_tanh_pool_pixels_i8_scratch(C: number, H: number, W: number): number;
  conv2d_tanh_pool_pixels_i8(out: number, scratch: number, inp: number, weight: number, scale: number, bias: number, B: number, C: number, H: number, W: number, OC: number, K: number): void;
  dense_fwd_i8(out: number, inp: number, weight: number, scale: number, bias: number, B: number, K: number, N: number): void;
}

/** Where the module comes from: its bytes, a compiled module, or a URL/path to fetch or read. */
export type WasmSource = Uint8Array | ArrayBuffer | WebAssembly.Module | URL | string;

/** Thrown when the engine cannot run the module (for example, no WebAssembly SIMD). */
export class WasmSupportError extends Error {
  override readonly name = "WasmSupportError";
}

const compiled = new Map<string | Uint8Array, Promise<WebAssembly.Module>>();

/** Compiles the module at a URL (or the inlined default bytes) once per process. */
function compileOnce(source: URL | Uint8Array): Promise<WebAssembly.Module> {
  const key = source instanceof URL ? source.href : source;
  let module = compiled.get(key);
  if (module === undefined) {
    module = compile(source);
    module.catch(() => compiled.delete(key)); // let a later call retry
    compiled.set(key, module);
  }
  return module;
}

/**
 * Whether this engine runs the relaxed-SIMD build (f32x4.relaxed_madd: fused multiply-add where the
 * hardware has it; Node >= 22, Chrome >= 114). Its results depend on the hardware: opt-in only.
 */
export async function relaxedSimdSupported(): Promise<boolean> {
  return (await relaxedSimd()).ok;
}

/**
 * Whether the relaxed-SIMD build can be used; if not, why: the engine lacks relaxed SIMD, or the file
 * cannot be loaded (`missing`: a bundler that did not copy build/browser/lenet.relaxed.wasm).
 */
export async function relaxedSimd(): Promise<{ ok: true } | { ok: false; missing: boolean; message: string }> {
  try {
    await compileOnce(relaxedWasmUrl);
    return { ok: true };
  } catch (err) {
    return { ok: false, missing: err instanceof WasmFetchError, message: (err as Error).message };
  }
}

/** The module's file could not be read or fetched (as opposed to compiled). */
class WasmFetchError extends WasmSupportError {}

async function readSource(source: URL | string): Promise<Uint8Array> {
  let local;
  try {
    local = await readLocal(source);
  } catch (err) {
    throw new WasmFetchError(`cannot read ${String(source)}: ${(err as Error).message}`);
  }
  if (local !== undefined) return local;
  let response;
  try {
    response = await fetch(source);
  } catch (err) {
    throw new WasmFetchError(`cannot fetch ${String(source)}: ${(err as Error).message}`);
  }
  if (!response.ok) throw new WasmFetchError(`cannot fetch ${String(source)}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

async function compile(source: WasmSource): Promise<WebAssembly.Module> {
  if (source instanceof WebAssembly.Module) return source;
  const bytes = source instanceof Uint8Array || source instanceof ArrayBuffer ? source : await readSource(source);
  try {
    return await WebAssembly.compile(bytes as BufferSource);
  } catch (err) {
    throw new WasmSupportError(
      `cannot compile the lenet-wasm module: ${(err as Error).message}. ` +
        "It needs WebAssembly SIMD (Node >= 16.4, Chrome >= 91, Firefox >= 89, Safari >= 16.4).",
    );
  }
}

/**
 * Instantiates a fresh kernel module (its own memory). The compiled module is cached, so
 * further instances are cheap. Pass `source` to load the .wasm from somewhere else.
 */
export async function loadKernels(source?: WasmSource): Promise<Kernels> {
  const module = source === undefined ? compileOnce(defaultWasm) : source instanceof URL ? compileOnce(source) : compile(source);
  const { instance } = await instantiate(await module, {});
  // Raw exports, not the loader's wrappers: one direct call per kernel.
  return instance.exports as unknown as Kernels;
}
