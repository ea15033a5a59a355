// `lenet-wasm export`: a saved model as ONNX, or as an int8 model file.
import { dirname, resolve } from "node:path";
import { writeFileAtomic } from "../data/atomic-file.js";
import { encodeInt8Model } from "../io/model-file.js";
import { CALIBRATION_IMAGES, quantizeModel, readModelFile, weightBytes } from "./common.js";
import { CliError, stringFlag, UsageError, type Flags } from "./flags.js";

/** `export`: the model file (--model or the one argument) as ONNX, written atomically. */
export async function commandExport(flags: Flags, args: string[]): Promise<void> {
  const format = stringFlag(flags, "format") ?? "onnx";
  if (format !== "onnx" && format !== "int8") throw new UsageError(`--format must be onnx or int8, got "${format}"`);
  if (format === "onnx" && (flags.data !== undefined || flags.dataset !== undefined)) {
    throw new UsageError("--data and --dataset are for --format int8 (its calibration images); ONNX export needs only the model");
  }
  if (args.length > 1) throw new UsageError(`unexpected argument "${args[1]}"`);
  const given = stringFlag(flags, "model");
  if (given !== undefined && args.length > 0) throw new UsageError(`give the model once: --model ${given} or ${args[0]}, not both`);
  const file = given ?? args[0];
  if (file === undefined) throw new UsageError("export needs the model file: --model FILE (or export FILE)");
  const path = resolve(file);
  const out = resolve(stringFlag(flags, "out") ?? path.replace(/\.safetensors$/, "") + (format === "onnx" ? ".onnx" : ".int8.safetensors"));
  if (out === path) throw new UsageError(`--out ${out} is the model file itself; choose another --out`);
  const { weights, info } = await readModelFile(file);
  let bytes: Uint8Array, summary: string;
  if (format === "onnx") {
    const { encodeOnnx, ONNX_OPSET } = await import("../io/onnx.js"); // protobuf code: loaded only when used
    bytes = encodeOnnx(weights, info);
    summary = `ONNX model (opset ${ONNX_OPSET}, ${(bytes.length / 1024).toFixed(1)} KB) written to ${out}\n` +
      `  input "images": float32 [N,1,28,28], pixels in [0,1]; outputs "probabilities" and "logits": [N,${info.classes}]\n`;
  } else {
    const { model } = await quantizeModel(weights, info, path, flags, "Export it as onnx instead");
    bytes = encodeInt8Model(model.weights, { ...(info.classNames ? { classNames: info.classNames } : {}), ...(info.training ? { training: info.training } : {}), ...(info.metrics ? { metrics: info.metrics } : {}) });
    summary = `int8 model (${(bytes.length / 1024).toFixed(1)} KB; the f32 file has ${(weightBytes(weights) / 1024).toFixed(1)} KB of weights) written to ${out}\n` +
      `  calibrated on ${CALIBRATION_IMAGES} training images; evaluate and predict run it as int8\n`;
  }
  await writeFileAtomic(out, bytes).catch((err: NodeJS.ErrnoException) => {
    throw new CliError(`cannot write ${out}: ${err.code === "ENOENT" ? `folder ${dirname(out)} does not exist` : err.message}. Choose another --out.`);
  });
  if (flags.quiet !== true) process.stdout.write(summary);
}
