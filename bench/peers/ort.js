// Peer benchmark: onnxruntime running lenet-wasm's own ONNX export of the same weights (the shipped
// model, examples/web/lenet5.safetensors), measured the way bench/run.js measures ours; inference
// only (onnxruntime does not train in JavaScript). Prints ONE JSON line to stdout.
//   --backend web   onnxruntime-web, its wasm backend (SIMD, 1 thread): what browser pages use
//   --backend node  onnxruntime-node, native (1 intra-op thread): the native bar to aim at
// Usage: node bench/peers/ort.js --backend web|node [--seconds S]
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { parseArgs } from "node:util";
import { decodeModel } from "../../build/index.js";
import { encodeOnnx } from "../../build/onnx.js";
import { idx, measure } from "./measure.js";

const { values: flags } = parseArgs({ options: { backend: { type: "string" }, seconds: { type: "string" } } });
const budget = Number(flags.seconds ?? 0.5);
if (!(budget > 0)) throw new Error(`--seconds must be a positive number, got ${flags.seconds}`);
if (flags.backend !== "web" && flags.backend !== "node") throw new Error(`--backend must be web or node, got ${flags.backend}`);
const web = flags.backend === "web";
const require = createRequire(import.meta.url);
const ort = web ? await import("onnxruntime-web") : require("onnxruntime-node");
const version = JSON.parse(readFileSync(new URL(`./node_modules/onnxruntime-${flags.backend}/package.json`, import.meta.url), "utf8")).version;

const file = decodeModel(readFileSync(new URL("../../examples/web/lenet5.safetensors", import.meta.url)));
const onnx = encodeOnnx(file.weights, file.info);
let session;
if (web) {
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.simd = true;
  session = await ort.InferenceSession.create(onnx);
} else {
  session = await ort.InferenceSession.create(onnx, { intraOpNumThreads: 1, interOpNumThreads: 1 });
}

const testImages = idx("t10k-images-idx3-ubyte", 16), PIXELS = 784;
/** What a caller hands onnxruntime: count images from `start` as floats in [0,1], the conversion timed too (as our setBatch is). */
const predict = (start, count) => async () => {
  const f = new Float32Array(count * PIXELS);
  const src = testImages.subarray(start * PIXELS, (start + count) * PIXELS);
  for (let i = 0; i < f.length; i++) f[i] = src[i] / 255;
  const out = await session.run({ images: new ort.Tensor("float32", f, [count, 1, 28, 28]) });
  if (out.probabilities.data.length !== count * 10) throw new Error("unexpected output");
};
const batch1 = await measure(predict(0, 1), budget, 200);
const batch1000 = await measure(predict(0, 1000), budget, 3);

process.stdout.write(JSON.stringify({
  peer: web ? "onnxruntime-web" : "onnxruntime-node",
  version,
  simd: web ? true : "native",
  threads: 1,
  wasm_binary: web ? "ort-wasm-simd-threaded.wasm" : null,
  train_images_per_second: null,
  train_note: "inference only: onnxruntime has no training in JavaScript; it runs lenet-wasm's ONNX export (opset 13) of the shipped model",
  infer_batch1_ms: batch1 * 1e3,
  infer_batch1000_images_per_second: 1000 / batch1000,
}) + "\n");
