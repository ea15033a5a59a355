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

  it("keep the class names, and refuse names that do not fit the classes", async () => {
    const w = (await LeNet5.create({ classes: 3 })).getWeights();
    const names = ["circle", "cross", "T-shirt/top"];
    expect(decodeModel(encodeModel(w, { classes: 3, classNames: names })).info.classNames).toEqual(names);
    expect(() => encodeModel(w, { classes: 3, classNames: ["a", "b"] })).toThrow(/classNames: 3 strings needed/);
    const tensors = Object.fromEntries(Object.entries(w).map(([name, data]) => [name, { shape: name === "out.weight" ? [3, 84] : name === "out.bias" ? [3] : [...PARAMETERS.find((p) => p.name === name)!.shape], data }]));
    for (const bad of ['["a","b"]', '[1,2,3]', '"abc"', "{"]) {
      expect(() => decodeModel(encodeSafetensors(tensors, { classes: "3", class_names: bad }), "x.st"), bad).toThrow(/x\.st: metadata "class_names" (is not a list of 3 names|is not valid JSON)/);
    }
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
