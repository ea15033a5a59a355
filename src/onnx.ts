// lenet-wasm/onnx: a model as ONNX (opset 13), for onnxruntime, PyTorch and the rest. Its own entry:
// the protobuf code would triple the browser bundle.
export { encodeOnnx, ONNX_OPSET, ONNX_INPUT, ONNX_OUTPUTS } from "./io/onnx.js";
