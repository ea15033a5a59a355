// ONNX export of LeNet-5: the same network as lenet.ts's forward pass, as a standard ONNX graph that
// onnxruntime, PyTorch, Netron, ... read. Encoded with @bufbuild/protobuf and ONNX's own schema
// (onnx.proto, compiled in the onnx-buf package), not by hand. Platform-neutral: bytes in, bytes out.
import { create, toBinary } from "@bufbuild/protobuf";
import {
  AttributeProto_AttributeType as AttributeType, AttributeProtoSchema, GraphProtoSchema, ModelProtoSchema, NodeProtoSchema, OperatorSetIdProtoSchema,
  StringStringEntryProtoSchema, TensorProto_DataType as DataType, TensorProtoSchema, TensorShapeProto_DimensionSchema, TensorShapeProtoSchema,
  TypeProto_TensorSchema, TypeProtoSchema, ValueInfoProtoSchema, Version, type AttributeProto, type NodeProto, type TensorProto, type ValueInfoProto,
} from "onnx-buf";
import { CLASSES, IMAGE_SIDE, PARAMETERS, type Weights } from "./lenet.js";
import { CLASS_NAMES } from "./mnist.js";
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
function initializer(name: string, shape: readonly number[], data: Float32Array): TensorProto {
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
  const pool = [int("ceil_mode", 0), ints("kernel_shape", [2, 2]), ints("strides", [2, 2])];
  // The forward pass of lenet.ts, layer by layer; each value is named after the layer that makes it.
  const nodes = [
    node("Conv", "c1", [ONNX_INPUT, "c1.weight", "c1.bias"], "c1", [ints("kernel_shape", [5, 5]), ints("pads", [2, 2, 2, 2])]), // 'same'
    node("Tanh", "c1_tanh", ["c1"], "c1_tanh"),
    node("AveragePool", "s2", ["c1_tanh"], "s2", pool),
    node("Conv", "c3", ["s2", "c3.weight", "c3.bias"], "c3", [ints("kernel_shape", [5, 5])]), // 'valid'
    node("Tanh", "c3_tanh", ["c3"], "c3_tanh"),
    node("AveragePool", "s4", ["c3_tanh"], "s4", pool),
    node("Flatten", "flatten", ["s4"], "flatten", [int("axis", 1)]), // 400 values, channel-major (C,H,W)
    node("Gemm", "f5", ["flatten", "f5.weight", "f5.bias"], "f5", [int("transB", 1)]), // weights are (out, in)
    node("Tanh", "f5_tanh", ["f5"], "f5_tanh"),
    node("Gemm", "f6", ["f5_tanh", "f6.weight", "f6.bias"], "f6", [int("transB", 1)]),
    node("Tanh", "f6_tanh", ["f6"], "f6_tanh"),
    node("Gemm", "out", ["f6_tanh", "out.weight", "out.bias"], ONNX_OUTPUTS.logits, [int("transB", 1)]),
    node("Softmax", "softmax", [ONNX_OUTPUTS.logits], ONNX_OUTPUTS.probabilities, [int("axis", 1)]),
  ];
  const dataset = typeof info?.training?.dataset === "string" ? info.training.dataset : undefined;
  const metadata: Record<string, string> = { architecture: info?.architecture ?? ARCHITECTURE };
  if (dataset !== undefined) {
    metadata.dataset = dataset;
    if (dataset in CLASS_NAMES) metadata.class_names = JSON.stringify(CLASS_NAMES[dataset as keyof typeof CLASS_NAMES]);
  }
  if (info?.training) metadata.training = JSON.stringify(info.training);
  if (info?.metrics) metadata.metrics = JSON.stringify(info.metrics);

  const graph = create(GraphProtoSchema, {
    name: ARCHITECTURE,
    initializer: PARAMETERS.map((p) => initializer(p.name, p.shape, weights[p.name])),
    input: [valueInfo(ONNX_INPUT, [1, IMAGE_SIDE, IMAGE_SIDE], "N images of 28x28, row-major, pixels as float32 byte/255 in [0,1]")],
    output: [
      valueInfo(ONNX_OUTPUTS.probabilities, [CLASSES], "softmax of the logits: one probability per class"),
      valueInfo(ONNX_OUTPUTS.logits, [CLASSES], "scores before the softmax"),
    ],
  });
  // Assigned, not in the literal above: a minified `{node:...}` would trip the browser bundle's check for "node:" imports.
  graph.node = nodes;
  const model = create(ModelProtoSchema, {
    irVersion: BigInt(IR_VERSION),
    opsetImport: [create(OperatorSetIdProtoSchema, { domain: "", version: BigInt(ONNX_OPSET) })],
    producerName: "lenet-wasm",
    docString: "LeNet-5 trained with lenet-wasm: 28x28 grayscale digits in, class probabilities out.",
    metadataProps: Object.entries(metadata).map(([key, value]) => create(StringStringEntryProtoSchema, { key, value })),
    graph,
  });
  return toBinary(ModelProtoSchema, model);
}
