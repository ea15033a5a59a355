// Where the kernel modules are, in Node: build/*.wasm beside the compiled JS, read with node:fs.
// The browser bundle replaces this file with files.browser.ts (scripts/build-browser.js).

/** The default (deterministic) module, build/lenet.wasm (the same path works from src/ under the test runner). */
export const defaultWasmUrl: URL = new URL("../../build/lenet.wasm", import.meta.url);

/** The relaxed-SIMD build, build/lenet.relaxed.wasm. */
export const relaxedWasmUrl: URL = new URL("../../build/lenet.relaxed.wasm", import.meta.url);

/** What loadKernels() loads when given nothing. */
export const defaultWasm: URL = defaultWasmUrl;

const isNode = typeof process !== "undefined" && process.versions?.node !== undefined;

/** The bytes of a local file (a path or a file: URL) in Node; undefined for anything to fetch. */
export async function readLocal(source: URL | string): Promise<Uint8Array | undefined> {
  const url = typeof source === "string" && !/^[a-z]+:/i.test(source) ? undefined : new URL(source);
  if (!isNode || (url !== undefined && url.protocol !== "file:")) return undefined;
  const { readFile } = await import("node:fs/promises"); // loaded only when a file is read
  return new Uint8Array(await readFile(url ?? source));
}
