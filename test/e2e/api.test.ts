// The public surface, entry point by entry point: the exact names each one exports, values and
// types. A name added or removed fails here, so the API changes only on purpose (docs/api.md says
// what is stable). Reads the built entry points, as users get them.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const build = new URL("../../build/", import.meta.url);

/** Every name an entry's .d.ts exports (values and types), sorted. */
function declaredNames(entry: string): string[] {
  const dts = readFileSync(new URL(`${entry}.d.ts`, build), "utf8");
  const names = [...dts.matchAll(/export (?:type )?\{([^}]*)\}/g)].flatMap((m) => m[1]!.split(","))
    .map((n) => n.trim().replace(/^type /, "").split(/\s+as\s+/).pop()!.trim()).filter((n) => n !== "");
  return names.sort();
}

/** The names an entry exports at run time, sorted. */
async function runtimeNames(entry: string): Promise<string[]> {
  return Object.keys(await import(new URL(`${entry}.js`, build).href)).sort();
}

const API: Record<string, { values: string[]; types: string[] }> = {
  index: {
    values: [
      "ARCHITECTURE_NAMES", "C3_MASK", "CLASSES", "CLASS_NAMES", "DEFAULT_ADAM", "DEFAULT_DISTORTION", "DatasetError", "IMAGE_SIDE", "IdxError",
      "ImageError", "LeNet5", "LeNet5Int8", "MAX_CLASSES", "MODEL_FORMAT_VERSION", "NoDigitError", "NumericalError", "OptionError", "PARAMETERS", "PARAMETER_COUNT",
      "PIXELS", "RBF_CODES", "RECIPES", "SafetensorsError", "WasmSupportError", "adamConfig", "architecture", "argmax", "datasetFromIdx",
      "decodeCheckpoint", "decodeInt8Model", "decodeModel", "digitImageFromPng", "encodeCheckpoint", "encodeInt8Model", "encodeModel", "evaluate",
      "evaluateDetailed", "findDigit", "formatConfusion", "isGzip", "isInt8Model", "parseIdx", "preprocessDigit", "quantize", "recipe", "relaxedSimdSupported",
      "renderReport", "reportInput", "splitValidation", "subset", "toMnistImage", "train", "writeIdx",
    ],
    types: [
      "AdamConfig", "Architecture", "ArchitectureName", "Batch", "BatchProgress", "Checkpoint", "ClassMetrics", "Classifier", "Dataset", "DatasetName",
      "DetailedEvaluation", "DigitImage", "Distortion", "EpochMetrics", "Evaluation", "IdxArray", "IdxData", "IdxDtype", "IdxErrorCode", "ImageWriter",
      "Images", "LayerActivation", "LayerSpec", "LeNet5Int8Options", "LeNet5Options", "Mistake", "ModelInfo", "ParameterName", "ParameterSpec", "ParseIdxOptions", "QuantizedLayer",
      "QuantizedLayerName", "QuantizedWeights", "Recipe", "RecipeName", "ReportInput", "TrainOptions", "TrainResult", "TrainState", "WasmSource", "Weights",
    ],
  },
  inference: {
    values: [
      "CLASSES", "LeNet5", "LeNet5Int8", "NoDigitError", "PIXELS", "SafetensorsError", "WasmSupportError", "argmax", "decodeInt8Model", "decodeModel",
      "encodeInt8Model", "findDigit", "isInt8Model", "preprocessDigit", "quantize",
    ],
    types: ["ArchitectureName", "DigitImage", "Images", "LayerActivation", "LayerSpec", "LeNet5Int8Options", "LeNet5Options", "ModelInfo", "QuantizedWeights", "WasmSource", "Weights"],
  },
  idx: { values: ["IdxError", "isGzip", "parseIdx", "writeIdx"], types: ["IdxArray", "IdxData", "IdxDtype", "IdxErrorCode", "ParseIdxOptions"] },
  node: {
    values: [
      "CLASSES_FILE", "DownloadError", "FASHION_MNIST_DIR", "MNIST_FILES", "REMOTE_DATASETS", "cacheDir", "datasetDir", "defaultMnistDir", "downloadDataset",
      "findMnistFile", "isImageFolder", "loadDataset", "readClassesFile", "readImageFolder", "readMnist", "readMnistPart", "writeFileAtomic", "writeIdxFolder",
      "writeImageFolder",
    ],
    types: ["DatasetToWrite", "DownloadOptions", "LoadDatasetOptions", "MnistPart", "NamedDataset", "ReadImageFolderOptions", "RemoteDataset", "RemoteFile"],
  },
  onnx: { values: ["ONNX_INPUT", "ONNX_OPSET", "ONNX_OUTPUTS", "encodeOnnx"], types: [] },
  kernels: {
    values: [
      "PARAMETER_BLOCK", "SHARD_SIZE", "alignedLength", "allocateRegions", "defaultWasmUrl", "loadKernels", "packConvWeightPixels", "packConvWeightRows",
      "parameterLayout", "relaxedWasmUrl",
    ],
    types: ["Kernels", "Region", "WasmSource"],
  },
};

describe("the exported names of every entry point", () => {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { exports: Record<string, unknown> };

  it("package.json exports exactly these entry points (and the wasm file, package.json)", () => {
    const entries = Object.keys(pkg.exports).filter((k) => k !== "./lenet.wasm" && k !== "./package.json").map((k) => (k === "." ? "index" : k.slice(2)));
    expect(entries.sort()).toEqual(Object.keys(API).sort());
  });

  it.each(Object.keys(API))("entry %s: its values and types, exactly", async (entry) => {
    const { values, types } = API[entry]!;
    expect(await runtimeNames(entry)).toEqual([...values].sort());
    expect(declaredNames(entry)).toEqual([...values, ...types].sort());
  });

  it("the check fails on a name too many or too few", async () => {
    const actual = await runtimeNames("idx");
    expect(actual).not.toEqual([...API.idx!.values, "extra"].sort());
    expect(actual).not.toEqual(API.idx!.values.slice(1));
  });
});
