// The CLI's --int8 (evaluate, predict, export --format int8, report) on the shipped model and all
// 10,000 MNIST test images. The int8 kernels are tested in test/kernels/int8.test.ts, the int8 model
// in test/model/int8.test.ts.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { quantize } from "../../src/model/int8.js";
import { PIXELS } from "../../src/model/geometry.js";
import { LeNet5 } from "../../src/model/lenet.js";
import { decodeInt8Model, decodeModel, encodeInt8Model } from "../../src/io/model-file.js";
import { MNIST_DIR, mnist } from "../helpers.js";

const MODEL_FILE = fileURLToPath(new URL("../../examples/web/lenet5.safetensors", import.meta.url));
const CALIBRATION = 1000; // training images, as the CLI's --int8

describe("lenet-wasm evaluate/predict --int8", () => {
  const CLI = fileURLToPath(new URL("../../build/cli/main.js", import.meta.url));
  const run = (...args: string[]) => {
    const r = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", timeout: 120_000 });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  it("evaluate --int8 on the 10,000 test images agrees with f32 within 0.1 points; an int8 file runs as int8", async () => {
    const f32 = JSON.parse(run("evaluate", "--model", MODEL_FILE, "--json").stdout);
    const r = run("evaluate", "--model", MODEL_FILE, "--int8", "--json");
    expect(r.code, r.stderr).toBe(0);
    const int8 = JSON.parse(r.stdout);
    expect([f32.int8, int8.int8, int8.count]).toEqual([false, true, 10000]);
    expect(Math.abs(int8.test_accuracy - f32.test_accuracy)).toBeLessThanOrEqual(0.001);

    // The same quantisation through the API (first 1000 training images), saved: the CLI runs the file as int8.
    const { weights } = decodeModel(readFileSync(MODEL_FILE));
    const model = await quantize(weights, mnist().train.images.subarray(0, CALIBRATION * PIXELS));
    const file = join(mkdtempSync(join(tmpdir(), "lenet-int8-")), "int8.safetensors");
    writeFileSync(file, encodeInt8Model(model.weights));
    const fromFile = JSON.parse(run("evaluate", "--model", file, "--json").stdout);
    expect(fromFile.int8).toBe(true);
    expect(fromFile.test_accuracy).toBe(int8.test_accuracy);
    expect(run("evaluate", "--model", file).stdout).toMatch(/^Test accuracy \(int8\): \d+\.\d\d%/);
    // export --format int8 writes that same file.
    const exported = join(mkdtempSync(join(tmpdir(), "lenet-int8-")), "exported.int8.safetensors");
    const e = run("export", "--format", "int8", MODEL_FILE, "-o", exported);
    expect(e.code, e.stderr).toBe(0);
    expect(e.stdout).toMatch(/int8 model \(\d+\.\d KB; the f32 file has \d+\.\d KB of weights\) written to/);
    expect(() => decodeModel(new Uint8Array(readFileSync(exported)), exported)).toThrow(/an int8 model file \(export --format int8\): this needs the f32 model/);
    await expect(quantize((await LeNet5.create({ arch: "lenet5-1998" })).getWeights(), mnist().train.images.subarray(0, 784)))
      .rejects.toThrow(/int8 runs the article's lenet5 network with 10 classes only/);
    const back = decodeInt8Model(new Uint8Array(readFileSync(exported)), exported);
    expect(back.weights).toEqual(model.weights);
    expect(back.info.metrics).toEqual(decodeModel(readFileSync(MODEL_FILE)).info.metrics); // the story travels along

    const p = run("predict", "--model", MODEL_FILE, "--int8", "--data", MNIST_DIR, "--idx", join(MNIST_DIR, "t10k-images-idx3-ubyte"), "--index", "0", "--json");
    expect(p.code, p.stderr).toBe(0);
    expect(JSON.parse(p.stdout).predictions[0].prediction).toBe(mnist().test.labels[0]);
    expect(run("report", "--model", MODEL_FILE, "--int8").stderr).toMatch(/--int8 is not an option of report/);
  });
});
