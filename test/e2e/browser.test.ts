// The browser side, in a real Chromium (Debian's /usr/bin/chromium, driven by playwright-core): the
// demo under its strict CSP, digits drawn with the mouse, Node-identical bits, training in a Web
// Worker, and a Vite app that installs the packed package. Every server and browser is closed in afterAll.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";
import { PIXELS } from "../../src/model/geometry.js";
import { LeNet5, PARAMETERS } from "../../src/model/lenet.js";
import { subset } from "../../src/data/datasets.js";
import { decodeModel } from "../../src/io/model-file.js";
import { quantize } from "../../src/model/int8.js";
import { train } from "../../src/train/train.js";
import { chromiumForFile, inlineScript } from "../chromium.js";
import { serve } from "../serve.js";
import { mnist } from "../helpers.js";
import { installPackedPackage, run } from "../packed.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const weightsFile = join(root, "examples/web/lenet5.safetensors");
const CSP = "script-src 'self' 'wasm-unsafe-eval'";

const chromium = chromiumForFile();

/** A new page that records console errors and uncaught exceptions; the server sent the strict CSP. */
async function open(url: string): Promise<{ page: Page; errors: string[] }> {
  const { page, errors } = await chromium.open(url);
  expect((await page.request.head(url)).headers()["content-security-policy"]).toBe(CSP);
  return { page, errors };
}

/** Float32 bit patterns, for bit-for-bit comparisons. */
const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

describe("the demo (examples/web, served by npm run demo)", () => {
  let url: string;
  beforeAll(async () => {
    url = await serve();
  });

  it("loads under the strict CSP, cross-origin isolated, with no console errors (and the CSP is enforced)", async () => {
    const { page, errors } = await open(url);
    await page.waitForSelector("body[data-ready]", { state: "attached" });
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    expect(await page.locator("#status").textContent()).toMatch(/^Ready\. Model: lenet5\.safetensors, 98\.\d\d% on the MNIST test set/);
    expect(errors).toEqual([]);
    // An inline script is refused: the page really runs under script-src 'self'.
    expect(await inlineScript(page)).toBe("refused");
    expect(errors.join("\n")).toMatch(/Content Security Policy/);
    await page.close();
  }, 30_000);

  it("classifies real MNIST test digits drawn with the mouse, stroke by stroke", async () => {
    const { page, errors } = await open(url);
    await page.waitForSelector("body[data-ready]", { state: "attached" });
    const box = (await page.locator("#pad").boundingBox())!;
    const cell = box.width / 28; // one MNIST pixel on the 280x280 pad
    const { test } = mnist();
    await expect.poll(() => page.locator("#prediction").textContent(), { message: "the blank pad" }).toBe("draw a digit");
    for (let n = 0; n < 10; n++) {
      await page.click("#clear");
      await expect.poll(() => page.locator("#prediction").textContent(), { message: "the cleared pad" }).toBe("draw a digit");
      const image = test.images.subarray(n * PIXELS, (n + 1) * PIXELS);
      // Each row's runs of ink (>= 128) as one horizontal stroke from the first pixel's centre to the last's.
      for (let y = 0; y < 28; y++) {
        for (let x = 0; x < 28; x++) {
          if (image[y * 28 + x]! < 128) continue;
          let end = x;
          while (end + 1 < 28 && image[y * 28 + end + 1]! >= 128) end++;
          const cy = box.y + (y + 0.5) * cell;
          await page.mouse.move(box.x + (x + 0.5) * cell, cy);
          await page.mouse.down();
          await page.mouse.move(box.x + (end + 0.5) * cell, cy);
          await page.mouse.up();
          x = end;
        }
      }
      await expect.poll(() => page.locator("#prediction").textContent(), { message: `test image ${n}` }).toBe(String(test.labels[n]));
    }
    // GALLERY=1 refreshes the README's screenshot of the demo, as this test leaves it.
    await page.screenshot({ path: process.env.GALLERY ? fileURLToPath(new URL("../../docs/gallery/demo.png", import.meta.url)) : join(tmpdir(), "lenet-demo.png") });
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  it("computes the same probabilities as Node, bit for bit (same weights, 500 MNIST test images)", async () => {
    const { page } = await open(url);
    const count = 500;
    // A string, not a function: the test runner would rewrite import() inside a function.
    const fromChromium = await page.evaluate<number[]>(`(async () => {
      const lib = await import("/lenet-wasm/lenet-wasm.js");
      const get = async (path) => new Uint8Array(await (await fetch(path)).arrayBuffer());
      const model = await lib.LeNet5.create();
      model.setWeights(lib.decodeModel(await get("lenet5.safetensors")).weights);
      const images = lib.parseIdx(await get("mnist/t10k-images-idx3-ubyte")).data;
      return Array.from(new Uint32Array(model.predict(images, ${count}).buffer));
    })()`);
    const model = await LeNet5.create();
    model.setWeights(decodeModel(readFileSync(weightsFile)).weights);
    const fromNode = bits(model.predict(mnist().test.images, count));
    expect(fromChromium.length).toBe(count * 10);
    expect(fromChromium).toEqual(fromNode);
    await page.close();
  }, 30_000);

  it("runs the 1998 network and the int8 model with Node's bits (seeded weights; int8 calibrated on the same images)", async () => {
    const { page } = await open(url);
    const count = 200;
    const fromChromium = await page.evaluate<{ paper: number[]; int8: number[] }>(`(async () => {
      const lib = await import("/lenet-wasm/lenet-wasm.js");
      const get = async (path) => new Uint8Array(await (await fetch(path)).arrayBuffer());
      const images = lib.parseIdx(await get("mnist/t10k-images-idx3-ubyte")).data;
      const paper = await lib.LeNet5.create({ arch: "lenet5-1998", seed: 1 });
      const int8 = await lib.quantize(lib.decodeModel(await get("lenet5.safetensors")).weights, images.subarray(0, 100 * 784));
      const bits = (p) => Array.from(new Uint32Array(p.buffer));
      return { paper: bits(paper.predict(images, ${count})), int8: bits(int8.predict(images, ${count})) };
    })()`);
    const test = mnist().test;
    const paper = await LeNet5.create({ arch: "lenet5-1998", seed: 1 });
    const int8 = await quantize(decodeModel(readFileSync(weightsFile)).weights, test.images.subarray(0, 100 * 784));
    expect(fromChromium.paper.length).toBe(count * 10);
    expect(fromChromium.paper).toEqual(bits(paper.predict(test.images, count)));
    expect(fromChromium.int8).toEqual(bits(int8.predict(test.images, count)));
    await page.close();
  }, 30_000);

  it("trains in Web Workers sharing each batch: the loss falls, and the model is Node's 1-thread train(), bit for bit", async () => {
    const { page, errors } = await open(url + "train.html");
    // The page is cross-origin isolated, so it uses a worker per core (this machine has 2).
    expect(await page.locator("#mode").textContent()).toMatch(/^Mode: 2 training workers sharing each batch\. This page is cross-origin isolated/);
    for (const [id, value] of [["epochs", "2"], ["limit", "1000"], ["validation", "5000"], ["seed", "3"]] as const) await page.fill(`#${id}`, value);
    await page.click("#start");
    await page.waitForSelector("body[data-state=done]", { state: "attached", timeout: 60_000 });
    const losses = await page.locator("#epochs-log li").evaluateAll((li) => li.map((e) => Number((e as HTMLElement).dataset.loss)));
    expect(losses).toHaveLength(2);
    expect(losses[1]).toBeLessThan(losses[0]!);
    expect(await page.locator("#stats").textContent()).toMatch(/^Done after .* images\/s\. Test accuracy \d+\.\d\d%/);
    const [download] = await Promise.all([page.waitForEvent("download"), page.click("#save")]);
    const saved = decodeModel(readFileSync((await download.path())!));
    expect(saved.info.training).toMatchObject({ epochs: 2, train_images: 1000, seed: 3, threads: 2 });
    expect(await page.locator("#mode").textContent()).toMatch(/^Mode: 2 training workers/);

    const model = await LeNet5.create({ seed: 3 });
    await train(model, subset(mnist().train, 0, 1000), { epochs: 2, batchSize: 32, seed: 3, adam: { lr: 0.001 } });
    const expected = model.getWeights();
    for (const p of PARAMETERS) expect(bits(saved.weights[p.name]), p.name).toEqual(bits(expected[p.name]));
    expect(errors).toEqual([]);
    await page.close();
  }, 90_000);
});

it("a Vite-built app that installs the packed package runs inference in Chromium, as Node does", async () => {
  // npm pack (build/ is already built), installed offline into an empty folder (test/packed.ts).
  const dir = installPackedPackage();
  chromium.temp.push(dir);
  writeFileSync(join(dir, "index.html"), '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><script type="module" src="./main.js"></script>\n');
  writeFileSync(join(dir, "main.js"), [
    'import { LeNet5 } from "lenet-wasm";',
    "const model = await LeNet5.create({ seed: 7 });",
    "const image = Uint8Array.from({ length: 784 }, (_, i) => (i * 37) % 256);",
    "document.body.dataset.bits = Array.from(new Uint32Array(model.predict(image).buffer)).join(',');",
  ].join("\n"));
  run(process.execPath, [join(root, "node_modules/vite/bin/vite.js"), "build", "--logLevel", "warn"], dir); // our vite, nothing downloaded
  const js = readdirSync(join(dir, "dist/assets")).filter((f) => f.endsWith(".js")).map((f) => readFileSync(join(dir, "dist/assets", f), "utf8")).join("\n");
  expect(js).not.toMatch(/node:|worker_threads/);

  const { page, errors } = await open(await serve("--root", join(dir, "dist")));
  await page.waitForSelector("body[data-bits]", { state: "attached" });
  const fromChromium = (await page.evaluate(() => document.body.dataset.bits!)).split(",").map(Number);
  const model = await LeNet5.create({ seed: 7 });
  expect(fromChromium).toEqual(bits(model.predict(Uint8Array.from({ length: 784 }, (_, i) => (i * 37) % 256))));
  expect(errors).toEqual([]);
  await page.close();
}, 120_000);
