// Where the kernel modules are, in the browser bundle (build/browser/lenet-wasm.js). The default
// module is inlined into the bundle (esbuild's binary loader: base64, decoded with atob, no eval), so
// it is found with zero configuration by any bundler, CDN or static folder (`npm run build` prints its size).
// The .wasm files are also shipped beside the bundle, for `LeNet5.create({ wasm: url })` and --fast-math.
import lenetWasm from "../../build/lenet.wasm";

/** build/browser/lenet.wasm, beside the bundle (the same bytes as the inlined default). */
export const defaultWasmUrl: URL = new URL("./lenet.wasm", import.meta.url);

/** build/browser/lenet.relaxed.wasm, beside the bundle; fetched only with fastMath. */
export const relaxedWasmUrl: URL = new URL("./lenet.relaxed.wasm", import.meta.url);

/** What loadKernels() loads when given nothing: the inlined bytes. */
export const defaultWasm: Uint8Array = lenetWasm;

/** Browsers have no local files: everything is fetched. */
export async function readLocal(): Promise<undefined> {
  return undefined;
}
