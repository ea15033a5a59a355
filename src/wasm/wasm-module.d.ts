// esbuild's binary loader (browser bundle only): importing a .wasm file gives its bytes.
declare module "*.wasm" {
  const bytes: Uint8Array;
  export default bytes;
}
