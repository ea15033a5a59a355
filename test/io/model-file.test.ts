// Model files: weights and metadata round-trip, plain state_dicts, and what is refused.
import { describe, expect, it } from "vitest";
import { LeNet5, PARAMETERS } from "../../src/model/lenet.js";
import { decodeModel, encodeModel } from "../../src/io/model-file.js";
import { encodeSafetensors, SafetensorsError } from "../../src/io/safetensors.js";

describe("model files", () => {
  it("round-trip weights and metadata bit for bit", async () => {
    const m = await LeNet5.create({ seed: 5 });
    const bytes = encodeModel(m.getWeights(), { training: { epochs: 1 }, metrics: { test_accuracy: 0.5 } });
    const { weights, info } = decodeModel(bytes, "m.safetensors");
    expect(weights).toEqual(m.getWeights());
    expect(info).toEqual({ formatVersion: 1, architecture: "lenet5", classes: 10, training: { epochs: 1 }, metrics: { test_accuracy: 0.5 } });
  });

  it("accept a plain state_dict without metadata (as saved from PyTorch)", async () => {
    const w = (await LeNet5.create()).getWeights();
    const bytes = encodeSafetensors(Object.fromEntries(PARAMETERS.map((p) => [p.name, { shape: [...p.shape], data: w[p.name] }])));
    expect(decodeModel(bytes).weights["f6.bias"]).toEqual(w["f6.bias"]);
  });

  it("reject other architectures, newer formats and wrong shapes with the file name", async () => {
    const w = (await LeNet5.create()).getWeights();
    const tensors = Object.fromEntries(PARAMETERS.map((p) => [p.name, { shape: [...p.shape], data: w[p.name] }]));
    expect(() => decodeModel(encodeSafetensors(tensors, { architecture: "resnet" }), "x.st")).toThrow(/x.st: architecture is "resnet"/);
    expect(() => decodeModel(encodeSafetensors(tensors, { format_version: "2" }), "x.st")).toThrow(/format_version "2" is not supported/);
    const wrong = { ...tensors, "f5.weight": { shape: [400, 120], data: w["f5.weight"] } };
    expect(() => decodeModel(encodeSafetensors(wrong), "x.st")).toThrow(SafetensorsError);
    expect(() => decodeModel(encodeSafetensors(wrong), "x.st")).toThrow(/f5.weight/);
  });
});
