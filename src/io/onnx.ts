// ONNX export of LeNet-5: the same networks as model/networks.ts's forward passes, as a standard ONNX graph that
// onnxruntime, PyTorch, Netron, ... read. Encoded with @bufbuild/protobuf and ONNX's own schema
// (onnx.proto, compiled in the onnx-buf package), not by hand. Platform-neutral: bytes in, bytes out.
import { create, toBinary } from "@bufbuild/protobuf";
import {
  AttributeProto_AttributeType as AttributeType, AttributeProtoSchema, GraphProtoSchema, ModelProtoSchema, NodeProtoSchema, OperatorSetIdProtoSchema,
  StringStringEntryProtoSchema, TensorProto_DataType as DataType, TensorProtoSchema, TensorShapeProto_DimensionSchema, TensorShapeProtoSchema,
  TypeProto_TensorSchema, TypeProtoSchema, ValueInfoProtoSchema, Version, type AttributeProto, type NodeProto, type TensorProto, type ValueInfoProto,
} from "onnx-buf";
import { C1, C3, CLASSES, F6, IMAGE_SIDE, PAD, POOL_SIDE, S4 } from "../model/geometry.js";
import type { Weights } from "../model/lenet.js";
import { architecture as network, C3_MASK, RBF_CODES, SQUASH, type ArchitectureName } from "../model/networks.js";
import { CLASS_NAMES } from "../data/datasets.js";
import { ARCHITECTURE, type ModelInfo } from "./model-file.js";

/** Operator set of the graph (every operator used has had its current form since 13). */
export const ONNX_OPSET = 13;
/** The IR version that goes with opset 13 (ONNX 1.8). */
const IR_VERSION = Version.IR_VERSION_2020_5_8;

/** Name of the graph input (float32 [N,1,28,28], pixels in [0,1]) and of its two outputs ([N,10]). */
export const ONNX_INPUT = "images";
export const ONNX_OUTPUTS = { probabilities: "probabilities", logits: "logits" } as const;

const ints = (name: string, values: number[]): AttributeProto =>
  create(AttributeProtoSchema, { name, type: AttributeType.INTS, ints: values.map(BigInt) });
const int = (name: string, value: number): AttributeProto => create(AttributeProtoSchema, { name, type: AttributeType.INT, i: BigInt(value) });

const node = (opType: string, name: string, input: string[], output: string, attribute: AttributeProto[] = []): NodeProto =>
  create(NodeProtoSchema, { opType, name, input, output: [output], attribute });

/** A float32 tensor of the batch size "N" by `dims`. */
const valueInfo = (name: string, dims: number[], docString: string): ValueInfoProto => create(ValueInfoProtoSchema, {
  name, docString,
  type: create(TypeProtoSchema, {
    value: {
      case: "tensorType",
      value: create(TypeProto_TensorSchema, {
        elemType: DataType.FLOAT,
        shape: create(TensorShapeProtoSchema, {
          dim: [
            create(TensorShapeProto_DimensionSchema, { value: { case: "dimParam", value: "N" } }),
            ...dims.map((d) => create(TensorShapeProto_DimensionSchema, { value: { case: "dimValue", value: BigInt(d) } })),
          ],
        }),
      }),
    },
  }),
});

/** A weight tensor as an initializer: float32, raw little-endian bytes (as ONNX requires on any host). */
function initializer(name: string, shape: readonly number[], data: Float32Array | undefined): TensorProto {
  const count = shape.reduce((a, b) => a * b, 1);
  if (!data || data.length !== count) {
    throw new RangeError(`ONNX export: ${name} needs ${count} values (shape ${shape.join("x")}), got ${data?.length ?? "none"}`);
  }
  const rawData = new Uint8Array(count * 4);
  const view = new DataView(rawData.buffer);
  for (let i = 0; i < count; i++) view.setFloat32(i * 4, data[i]!, true);
  return create(TensorProtoSchema, { name, dims: shape.map(BigInt), dataType: DataType.FLOAT, rawData });
}

/**
 * Encodes weights as an ONNX model (opset 13): input "images" float32 [N,1,28,28] with pixels in
 * [0,1] (byte / 255), outputs "probabilities" (softmax) and "logits", both [N,10]. `info` (from
 * decodeModel) goes into metadata_props: dataset, class names, training settings and metrics.
 * @throws RangeError when a tensor does not have its shape's number of values
 */
export function encodeOnnx(weights: Weights, info?: ModelInfo): Uint8Array {
  const architecture = info?.architecture ?? ARCHITECTURE, classes = info?.classes ?? CLASSES;
  const { nodes, initializers } = architecture === "lenet5" ? articleGraph(weights, classes) : paperGraph(weights, architecture, classes);
  const dataset = typeof info?.training?.dataset === "string" ? info.training.dataset : undefined;
  const metadata: Record<string, string> = { architecture };
  if (classes !== CLASSES) metadata.classes = String(classes);
  if (dataset !== undefined) {
    metadata.dataset = dataset;
    if (dataset in CLASS_NAMES && classes === CLASSES) metadata.class_names = JSON.stringify(CLASS_NAMES[dataset as keyof typeof CLASS_NAMES]);
  }
  if (info?.training) metadata.training = JSON.stringify(info.training);
  if (info?.metrics) metadata.metrics = JSON.stringify(info.metrics);

  const graph = create(GraphProtoSchema, {
    name: architecture,
    initializer: initializers,
    input: [valueInfo(ONNX_INPUT, [1, IMAGE_SIDE, IMAGE_SIDE], "N images of 28x28, row-major, pixels as float32 byte/255 in [0,1]")],
    output: [
      valueInfo(ONNX_OUTPUTS.probabilities, [classes], "softmax of the logits: one probability per class"),
      valueInfo(ONNX_OUTPUTS.logits, [classes], architecture === "lenet5-1998" ? "minus the squared distance of F6 to each class's code" : "scores before the softmax"),
    ],
  });
  // Assigned, not in the literal above: a minified `{node:...}` would trip the browser bundle's check for "node:" imports.
  graph.node = nodes;
  const model = create(ModelProtoSchema, {
    irVersion: BigInt(IR_VERSION),
    opsetImport: [create(OperatorSetIdProtoSchema, { domain: "", version: BigInt(ONNX_OPSET) })],
    producerName: "lenet-wasm",
    docString: `${network(architecture, classes).title}, trained with lenet-wasm: 28x28 grayscale digits in, class probabilities out.`,
    metadataProps: Object.entries(metadata).map(([key, value]) => create(StringStringEntryProtoSchema, { key, value })),
    graph,
  });
  return toBinary(ModelProtoSchema, model);
}

type Graph = { nodes: NodeProto[]; initializers: TensorProto[] };
const POOL = [int("ceil_mode", 0), ints("kernel_shape", [POOL_SIDE, POOL_SIDE]), ints("strides", [POOL_SIDE, POOL_SIDE])];
/** One initializer per parameter; `shapeOf` may give a tensor another shape for the graph. */
const parameterInitializers = (arch: ArchitectureName, classes: number, weights: Weights,
  shapeOf = (_name: string, shape: readonly number[]): readonly number[] => shape): TensorProto[] =>
  network(arch, classes).parameters.map((p) => initializer(p.name, shapeOf(p.name, p.shape), weights[p.name]));

/** The article's network: the forward pass of model/networks.ts's LENET5, layer by layer. */
function articleGraph(weights: Weights, classes: number): Graph {
  // Each value is named after the layer that makes it.
  const nodes = [
    node("Conv", "c1", [ONNX_INPUT, "c1.weight", "c1.bias"], "c1", [ints("kernel_shape", [C1.K, C1.K]), ints("pads", [PAD, PAD, PAD, PAD])]), // 'same'
    node("Tanh", "c1_tanh", ["c1"], "c1_tanh"),
    node("AveragePool", "s2", ["c1_tanh"], "s2", POOL),
    node("Conv", "c3", ["s2", "c3.weight", "c3.bias"], "c3", [ints("kernel_shape", [C3.K, C3.K])]), // 'valid'
    node("Tanh", "c3_tanh", ["c3"], "c3_tanh"),
    node("AveragePool", "s4", ["c3_tanh"], "s4", POOL),
    node("Flatten", "flatten", ["s4"], "flatten", [int("axis", 1)]), // 400 values, channel-major (C,H,W)
    node("Gemm", "f5", ["flatten", "f5.weight", "f5.bias"], "f5", [int("transB", 1)]), // weights are (out, in)
    node("Tanh", "f5_tanh", ["f5"], "f5_tanh"),
    node("Gemm", "f6", ["f5_tanh", "f6.weight", "f6.bias"], "f6", [int("transB", 1)]),
    node("Tanh", "f6_tanh", ["f6"], "f6_tanh"),
    node("Gemm", "out", ["f6_tanh", "out.weight", "out.bias"], ONNX_OUTPUTS.logits, [int("transB", 1)]),
    node("Softmax", "softmax", [ONNX_OUTPUTS.logits], ONNX_OUTPUTS.probabilities, [int("axis", 1)]),
  ];
  return { nodes, initializers: parameterInitializers("lenet5", classes, weights) };
}

/** An int64 initializer (shapes, pads, axes). */
function int64s(name: string, values: number[]): TensorProto {
  return create(TensorProtoSchema, { name, dims: [BigInt(values.length)], dataType: DataType.INT64, int64Data: values.map(BigInt) });
}

/**
 * The 1998 network (model/networks.ts's LENET5_1998). Input pixels in [0,1] become -0.1 + 1.275 x,
 * padded to 32x32 with the background -0.1; the squashing function is 1.7159 tanh(2a/3); S2 and S4
 * are 2x2 sums (AveragePool times 4) times a coefficient plus a bias per map; C3's weights are
 * zero outside the connection table; the outputs are minus the squared distances to the codes.
 */
function paperGraph(weights: Weights, architecture: ArchitectureName, classes: number): Graph {
  const rbf = architecture === "lenet5-1998";
  const c3 = weights["c3.weight"]?.map((w, i) => w * C3_MASK[i]!);
  const scalar = (name: string, v: number) => initializer(name, [], Float32Array.of(v));
  const nodes: NodeProto[] = [];
  const squash = (x: string) => {
    nodes.push(node("Mul", `${x}_scaled`, [x, "S"], `${x}_scaled`), node("Tanh", `${x}_tanh`, [`${x}_scaled`], `${x}_tanh`),
      node("Mul", `${x}_squash`, [`${x}_tanh`, "A"], `${x}_squash`));
    return `${x}_squash`;
  };
  const subsample = (x: string, name: string) => {
    nodes.push(node("AveragePool", `${name}_avg`, [x], `${name}_avg`, POOL), node("Mul", `${name}_sum`, [`${name}_avg`, "four"], `${name}_sum`),
      node("Mul", `${name}_times`, [`${name}_sum`, `${name}.weight`], `${name}_times`), node("Add", name, [`${name}_times`, `${name}.bias`], name));
    return name;
  };
  nodes.push(node("Mul", "input_scaled", [ONNX_INPUT, "input_range"], "input_scaled"), node("Add", "input_shifted", ["input_scaled", "background"], "input_shifted"),
    node("Pad", "input_padded", ["input_shifted", "pads", "background"], "input_padded")); // mode "constant"
  nodes.push(node("Conv", "c1", ["input_padded", "c1.weight", "c1.bias"], "c1", [ints("kernel_shape", [C1.K, C1.K])]));
  const s2 = squash(subsample(squash("c1"), "s2"));
  nodes.push(node("Conv", "c3", [s2, "c3.weight", "c3.bias"], "c3", [ints("kernel_shape", [C3.K, C3.K])]));
  const s4 = squash(subsample(squash("c3"), "s4"));
  nodes.push(node("Conv", "c5", [s4, "c5.weight", "c5.bias"], "c5", [ints("kernel_shape", [S4.OH, S4.OW])]), node("Flatten", "c5_flat", ["c5"], "c5_flat", [int("axis", 1)]));
  const c5 = squash("c5_flat");
  nodes.push(node("Gemm", "f6", [c5, "f6.weight", "f6.bias"], "f6", [int("transB", 1)]));
  const f6 = squash("f6");
  // RBF: (N,1,84) - (10,84) -> (N,10,84), squared, summed over the last axis, negated. Or a dense layer.
  if (rbf) {
    nodes.push(node("Unsqueeze", "f6_rows", [f6, "axis1"], "f6_rows"), node("Sub", "rbf_diff", ["f6_rows", "codes"], "rbf_diff"),
      node("Mul", "rbf_sq", ["rbf_diff", "rbf_diff"], "rbf_sq"), node("ReduceSum", "rbf", ["rbf_sq", "axis2"], "rbf", [int("keepdims", 0)]),
      node("Neg", "logits", ["rbf"], ONNX_OUTPUTS.logits));
  } else nodes.push(node("Gemm", "out", [f6, "out.weight", "out.bias"], ONNX_OUTPUTS.logits, [int("transB", 1)]));
  nodes.push(node("Softmax", "softmax", [ONNX_OUTPUTS.logits], ONNX_OUTPUTS.probabilities, [int("axis", 1)]));
  const { low, high } = network(architecture).input;
  const initializers = [
    // S2 and S4's per-map coefficients and biases, shaped (1,C,1,1) to broadcast over (N,C,H,W).
    ...parameterInitializers(architecture, classes, { ...weights, ...(c3 ? { "c3.weight": c3 } : {}) },
      (name, shape) => (/^s[24]\./.test(name) ? [1, shape[0]!, 1, 1] : shape)),
    scalar("input_range", high - low), scalar("background", low), scalar("A", SQUASH.A), scalar("S", SQUASH.S), scalar("four", 4),
    int64s("pads", [0, 0, PAD, PAD, 0, 0, PAD, PAD]),
    ...(rbf ? [int64s("axis1", [1]), int64s("axis2", [2]), initializer("codes", [CLASSES, F6.N], RBF_CODES)] : []),
  ];
  return { nodes, initializers };
}
