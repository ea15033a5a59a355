// `lenet-wasm export --format onnx` (build/cli/main.js) writes the same bytes as encodeOnnx(), and
// its usage errors. The ONNX export itself is tested in test/io/onnx.test.ts.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import type { Weights } from "../../src/model/lenet.js";
import { encodeModel } from "../../src/io/model-file.js";
import { encodeOnnx } from "../../src/io/onnx.js";
import { ONNX_MODEL_INFO, onnxTestModel } from "../helpers.js";

const CLI = fileURLToPath(new URL("../../build/cli/main.js", import.meta.url));

function run(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const INFO = ONNX_MODEL_INFO;

describe("ONNX export", () => {
  // The model of test/io/onnx.test.ts's "ONNX export".
  let weights: Weights;
  let onnx: Uint8Array;
  beforeAll(async () => {
    const model = await onnxTestModel();
    weights = model.getWeights();
    onnx = encodeOnnx(weights, INFO);
  });

  describe("lenet-wasm export (build/cli.js)", () => {
    let dir: string, modelFile: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), "lenet-onnx-"));
      modelFile = join(dir, "model.safetensors");
      writeFileSync(modelFile, encodeModel(weights, INFO));
    });

    it("writes the model as ONNX: positional model and -o, or --model and the default .onnx path", () => {
      const out = join(dir, "named.onnx");
      const r = run("export", "--format", "onnx", modelFile, "-o", out);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(out);
      expect(new Uint8Array(readFileSync(out))).toEqual(onnx);
      const byFlag = run("export", "--format", "onnx", "--model", modelFile, "--quiet");
      expect(byFlag.code, byFlag.stderr).toBe(0);
      expect(byFlag.stdout).toBe("");
      expect(new Uint8Array(readFileSync(join(dir, "model.onnx")))).toEqual(onnx);
    });

    it.each([
      [["export", "--format", "tflite", "MODEL"], /--format must be onnx or int8, got "tflite"/],
      [["export", "--format", "onnx"], /export needs the model file/],
      [["export", "MODEL", "--model", "MODEL"], /give the model once/],
      [["export", "MODEL", "--epochs", "2"], /--epochs is not an option of export/],
      [["export", "MODEL", "--data", "somewhere"], /--data and --dataset are for --format int8/],
    ])("usage error %j -> exit 2, nothing written", (args, message) => {
      const out = join(dir, "bad.onnx");
      const r = run(...(args as string[]).map((a) => (a === "MODEL" ? modelFile : a)), "-o", out);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(existsSync(out)).toBe(false);
    });

    it("a missing model file: exit 1 and what to do", () => {
      const r = run("export", join(dir, "nope.safetensors"));
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/cannot read model file .*nope\.safetensors: no such file/);
    });
  });
});
