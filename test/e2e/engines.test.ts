// The same bits in Chromium, Firefox and WebKit (the engines of Chrome, Firefox and Safari): each loads
// test/e2e/compat/ from scripts/serve.js, under the strict CSP (script-src 'self' 'wasm-unsafe-eval')
// and cross-origin isolated, and must compute what Node computes, bit for bit: the inference bundle's
// probabilities on 500 test images (f32 and int8), the 1998 network, inference in a dedicated Worker
// and in a module Service Worker, and training in a Worker on 1 thread and on 2 (where the engine
// has shared memory; elsewhere on 1, with a warning). Then the same page without isolation, where no
// engine has SharedArrayBuffer: 2 threads fall back to 1, with the same weights. And the explainer page:
// every layer of a sample digit, values and pixels, as Node computes them, and the weights it trains.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { subset } from "../../src/data/datasets.js";
import { writeIdx } from "../../src/data/idx.js";
import { decodeModel } from "../../src/io/model-file.js";
import { quantize } from "../../src/model/int8.js";
import { LeNet5, type Weights } from "../../src/model/lenet.js";
import { train } from "../../src/train/train.js";
import { chromiumEngine, firefoxEngine, readGlobal, webkitEngine, type Engine } from "../browsers.js";
import { mnist } from "../helpers.js";
import { serve, stopServers } from "../serve.js";

const root = fileURLToPath(new URL("../../", import.meta.url));

/** What test/e2e/compat/compat.js leaves in self.__compat. */
interface Compat {
  userAgent: string;
  errors: string[];
  features: { simd: boolean; relaxedSimd: boolean; sharedMemory: boolean; crossOriginIsolated: boolean; serviceWorker: boolean };
  f32: string;
  int8: string;
  fastMath: { used: boolean; probabilities: string };
  lenet1998: string;
  worker: string;
  train1: { weights: Record<string, string>; threads: number; warnings: string[] };
  train2: { weights: Record<string, string>; threads: number; warnings: string[] };
  serviceWorker: string;
}

const b64 = (a: Float32Array): string => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString("base64");
const floats = (s: string): Float32Array => {
  const bytes = Buffer.from(s, "base64");
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
};
const weightsB64 = (w: Weights) => Object.fromEntries(Object.entries(w).map(([n, t]) => [n, b64(t)]));


/** The compat page, served with its data, cross-origin isolated or not; its URL. */
async function servePage(data: string, isolated: boolean): Promise<string> {
  const base = await serve("--mount", `/compat/=${join(root, "test/e2e/compat")}`, "--mount", `/data/=${data}`, ...(isolated ? [] : ["--no-isolation"]));
  return `${base}compat/`;
}

/** The explainer's drawing functions (examples/web/explain-view.js, plain JS), as this test uses them. */
interface ExplainView {
  GRID_LAYERS: Record<string, string[]>;
  gridLayout(name: string, shape: readonly number[], arch: string): unknown;
  paint(g: unknown, values: Float32Array, arch: string): Uint8ClampedArray;
}

const ENGINES: [Engine["name"], () => Promise<Engine>][] = [["Chromium", chromiumEngine], ["Firefox", firefoxEngine], ["WebKit", webkitEngine]];

describe("Chromium, Firefox and WebKit give Node's bits", () => {
  let data: string, isolatedUrl: string, plainUrl: string, demoUrl: string;
  const want: Record<string, string> = {};
  let trained: Record<string, string>;

  beforeAll(async () => {
    data = mkdtempSync(join(tmpdir(), "lenet-engines-"));
    const { train: all, test: allTest } = mnist();
    const trainSet = subset(all, 0, 1000), test = subset(allTest, 0, 500);
    writeFileSync(join(data, "t10k-images-idx3-ubyte"), writeIdx({ dtype: "u8", dims: [test.count, 28, 28], data: test.images }));
    writeFileSync(join(data, "train-images-idx3-ubyte"), writeIdx({ dtype: "u8", dims: [trainSet.count, 28, 28], data: trainSet.images }));
    writeFileSync(join(data, "train-labels-idx1-ubyte"), writeIdx({ dtype: "u8", dims: [trainSet.count], data: trainSet.labels }));
    // What the page computes, computed by Node.
    const { weights } = decodeModel(readFileSync(join(root, "examples/web/lenet5.safetensors")));
    const model = await LeNet5.create();
    model.setWeights(weights);
    want.f32 = b64(model.predict(test.images));
    want.first50 = b64(model.predict(test.images, 50));
    want.int8 = b64((await quantize(weights, trainSet.images)).predict(test.images));
    want.lenet1998 = b64((await LeNet5.create({ arch: "lenet5-1998", seed: 5 })).predict(test.images, 100));
    const learner = await LeNet5.create({ seed: 3 });
    await train(learner, trainSet, { epochs: 1, batchSize: 32, seed: 3 });
    trained = weightsB64(learner.getWeights());
    isolatedUrl = await servePage(data, true);
    plainUrl = await servePage(data, false);
    demoUrl = await serve();
  }, 120_000);

  afterAll(() => {
    stopServers();
    if (data !== undefined) rmSync(data, { recursive: true, force: true });
  });

  describe.each(ENGINES)("%s", (name, launch) => {
    let engine: Engine;
    let page: Compat;
    beforeAll(async () => {
      engine = await launch();
      page = (await readGlobal(engine, isolatedUrl, "__compat")) as Compat;
      console.log(`${name}: ${page.userAgent}; ${JSON.stringify(page.features)}`);
    }, 200_000);
    afterAll(async () => engine?.close());

    it("runs every part without an error, with WebAssembly SIMD, cross-origin isolated, Service Workers", () => {
      expect(page.errors).toEqual([]);
      expect(page.features).toMatchObject({ simd: true, crossOriginIsolated: true, serviceWorker: true });
    });

    it("the inference bundle: Node's probabilities on 500 test images, f32 and int8, and the 1998 network's", () => {
      expect(page.f32 === want.f32, "f32").toBe(true);
      expect(page.int8 === want.int8, "int8").toBe(true);
      expect(page.lenet1998 === want.lenet1998, "lenet5-1998").toBe(true);
    });

    it("inference in a dedicated Worker and in a module Service Worker: Node's bits", () => {
      expect(page.worker === want.first50, "Worker").toBe(true);
      expect(page.serviceWorker === want.first50, "Service Worker").toBe(true);
    });

    it("training in a Worker on 1 thread: Node's weights, bit for bit", () => {
      expect(page.train1.threads).toBe(1);
      expect(page.train1.weights).toEqual(trained);
    });

    it("training in a Worker on 2 threads: the same weights; on 1 with a warning where the engine has no shared memory", () => {
      expect(page.train2.weights).toEqual(trained);
      if (page.features.sharedMemory) expect([page.train2.threads, page.train2.warnings]).toEqual([2, []]);
      else expect([page.train2.threads, page.train2.warnings]).toEqual([1, [expect.stringMatching(/no SharedArrayBuffer/)]]);
    });

    it("fastMath: relaxed SIMD where the engine has it (within 1e-5 of the default), else the default build's bits", () => {
      expect(page.fastMath.used).toBe(page.features.relaxedSimd);
      const got = floats(page.fastMath.probabilities), ref = floats(want.first50!);
      if (!page.fastMath.used) expect(page.fastMath.probabilities === want.first50).toBe(true);
      else for (let i = 0; i < ref.length; i++) expect(Math.abs(got[i]! - ref[i]!)).toBeLessThan(1e-5);
    });

    it("the explainer (examples/web/explain.html): every layer of a sample digit, values and pixels, as Node computes them; trained in the page, Node's weights", async () => {
      const explainer = await engine.open(`${demoUrl}explain.html`);
      try {
        const until = async (expression: string, what: string) => {
          for (const started = Date.now(); !(await explainer.evaluate(expression));) {
            if (Date.now() - started > 60_000) {
              // Where it stopped: the page's training state and status line (once, in a full CI run,
              // Firefox's training stalled short of 100 batches; alone it passes).
              const state = await explainer.evaluate(`({ training: document.body.dataset.training, status: document.querySelector("#train-status")?.textContent, total: document.querySelector("#train-status")?.dataset.total })`);
              throw new Error(`${name}: the explainer never got to: ${what}; the page: ${JSON.stringify(state)}`);
            }
            await new Promise((r) => setTimeout(r, 100));
          }
        };
        await until(`document.body.dataset.ready === "true"`, "ready");
        await explainer.evaluate(`(document.querySelector("#sample").click(), true)`);
        await until(`Boolean(globalThis.explainer && globalThis.explainer.layers)`, "a digit's layers");
        const got = (await explainer.evaluate(`(() => {
          const e = globalThis.explainer, pixels = {};
          for (const c of document.querySelectorAll("#layers canvas")) pixels[c.id.slice(6)] = Array.from(c.getContext("2d").getImageData(0, 0, c.width, c.height).data);
          const layers = Object.fromEntries(Object.entries(e.layers).map(([k, v]) => [k, Array.from(new Uint32Array(v.buffer, v.byteOffset, v.length))]));
          return { digit: Array.from(e.digit), layers, pixels };
        })()`)) as { digit: number[]; layers: Record<string, number[]>; pixels: Record<string, number[]> };
        const model = await LeNet5.create({ batchSize: 1 });
        model.setWeights(decodeModel(readFileSync(join(root, "examples/web/lenet5.safetensors"))).weights);
        const view = (await import(pathToFileURL(join(root, "examples/web/explain-view.js")).href)) as ExplainView;
        for (const layer of model.activations(Uint8Array.from(got.digit))) {
          expect(got.layers[layer.name], layer.name).toEqual(Array.from(new Uint32Array(layer.values.buffer)));
          if (layer.name in got.pixels) expect(got.pixels[layer.name], `${layer.name}'s canvas`).toEqual(Array.from(view.paint(view.gridLayout(layer.name, layer.shape, "lenet5"), layer.values, "lenet5")));
        }
        expect(Object.keys(got.pixels)).toEqual(view.GRID_LAYERS.lenet5);

        // Trained in the page from random weights (seed 1) and paused: the weights it shows are Node's train() after as many batches.
        await explainer.evaluate(`(document.querySelector("#start").click(), true)`);
        await until(`Number(document.querySelector("#train-status").dataset.total || 0) >= 100`, "100 batches trained");
        await explainer.evaluate(`(document.querySelector("#pause").click(), true)`);
        await until(`document.body.dataset.training === "paused"`, "paused");
        const paused = (await explainer.evaluate(`(() => {
          const w = globalThis.explainer.weights;
          return { total: Number(document.querySelector("#train-status").dataset.total),
            weights: Object.fromEntries(Object.entries(w).map(([k, v]) => [k, Array.from(new Uint32Array(v.buffer, v.byteOffset, v.length))])) };
        })()`)) as { total: number; weights: Record<string, number[]> };
        const learner = await LeNet5.create({ seed: 1 });
        const stop = new AbortController();
        await train(learner, mnist().train, { epochs: 1, seed: 1, signal: stop.signal, onBatchEnd: (p) => { if (p.batch === paused.total) stop.abort(); } });
        for (const [tensor, values] of Object.entries(learner.getWeights())) expect(paused.weights[tensor], tensor).toEqual(Array.from(new Uint32Array(values.buffer)));
        await explainer.evaluate(`(document.querySelector("#stop").click(), true)`);
      } finally {
        await explainer.close();
      }
    }, 120_000);

    it("without cross-origin isolation (no SharedArrayBuffer): 2 threads train on 1 with a warning, the same weights", async () => {
      const plain = (await readGlobal(engine, plainUrl, "__compat")) as Compat;
      expect(plain.errors).toEqual([]);
      expect(plain.features).toMatchObject({ crossOriginIsolated: false, sharedMemory: false });
      expect([plain.train2.threads, plain.train2.warnings]).toEqual([1, [expect.stringMatching(/no SharedArrayBuffer .*cross-origin isolated/)]]);
      expect(plain.train2.weights).toEqual(trained);
      expect(plain.f32 === want.f32).toBe(true);
    }, 200_000);
  });
});
