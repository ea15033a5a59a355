// What each bundler makes of the package, in Chromium: an app that installs the packed package and
// asks for fastMath, bundled by Vite and by esbuild. Vite copies the relaxed-SIMD .wasm beside its
// bundle (it follows `new URL(..., import.meta.url)`): fastMath runs. esbuild does not: the page must
// say so, once, naming the file and where to put it, and run the default kernels with their usual
// bits; with the file copied there, fastMath runs.
import { copyFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { LeNet5 } from "../../src/model/lenet.js";
import { launchChromium } from "../chromium.js";
import { installPackedPackage, run } from "../packed.js";
import { serve, stopServers } from "../serve.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
let app: string, browser: Browser, bits: number[];

/** What the app's page computes: whether fastMath runs, the warnings it got, a prediction's bits. */
interface Result { fastMath: boolean; warnings: string[]; bits: number[] }

const MAIN = [
  'import { LeNet5 } from "lenet-wasm";',
  "const warnings = [];",
  "const model = await LeNet5.create({ seed: 7, fastMath: true, onWarning: (m) => warnings.push(m) });",
  "const image = Uint8Array.from({ length: 784 }, (_, i) => (i * 37) % 256);",
  "globalThis.__result = { fastMath: model.fastMath, warnings, bits: Array.from(new Uint32Array(model.predict(image).buffer)) };",
].join("\n");

async function load(dir: string): Promise<Result> {
  const page = await browser.newPage();
  try {
    await page.goto(await serve("--root", dir));
    await page.waitForFunction(() => (globalThis as { __result?: unknown }).__result !== undefined, undefined, { timeout: 60_000 });
    return await page.evaluate(() => (globalThis as unknown as { __result: Result }).__result);
  } finally {
    await page.close();
  }
}

beforeAll(async () => {
  app = installPackedPackage();
  writeFileSync(join(app, "main.js"), MAIN);
  writeFileSync(join(app, "index.html"), '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><script type="module" src="./main.js"></script>\n');
  browser = await launchChromium();
  const model = await LeNet5.create({ seed: 7 });
  bits = Array.from(new Uint32Array(model.predict(Uint8Array.from({ length: 784 }, (_, i) => (i * 37) % 256)).buffer));
}, 180_000);

afterAll(async () => {
  stopServers();
  await browser?.close();
  if (app !== undefined) rmSync(app, { recursive: true, force: true });
});

it("Vite copies the relaxed-SIMD .wasm: fastMath runs, no warning", async () => {
  run(process.execPath, [join(root, "node_modules/vite/bin/vite.js"), "build", "--logLevel", "warn", "--outDir", "dist-vite"], app);
  expect(readdirSync(join(app, "dist-vite/assets")).some((f) => /^lenet\.relaxed.*\.wasm$/.test(f))).toBe(true);
  const result = await load(join(app, "dist-vite"));
  expect([result.fastMath, result.warnings]).toEqual([true, []]);
}, 120_000);

it("esbuild does not: one warning naming the file and where to serve it, the default kernels' bits; copied there, fastMath runs", async () => {
  const dist = join(app, "dist-esbuild");
  await build({ entryPoints: [join(app, "main.js")], bundle: true, format: "esm", platform: "browser", outfile: join(dist, "main.js"), absWorkingDir: app, logLevel: "warning" });
  copyFileSync(join(app, "index.html"), join(dist, "index.html"));
  const without = await load(dist);
  expect(without.fastMath).toBe(false);
  expect(without.warnings).toEqual([expect.stringMatching(/^lenet-wasm: fastMath: cannot fetch http:\/\/127\.0\.0\.1:\d+\/lenet\.relaxed\.wasm: HTTP 404; using the default kernels .* Serve the package's build\/browser\/lenet\.relaxed\.wasm at http:\/\/127\.0\.0\.1:\d+\/lenet\.relaxed\.wasm: some bundlers \(esbuild\) do not copy it\.$/)]);
  expect(without.bits).toEqual(bits);
  copyFileSync(join(app, "node_modules/lenet-wasm/build/browser/lenet.relaxed.wasm"), join(dist, "lenet.relaxed.wasm"));
  const withFile = await load(dist);
  expect([withFile.fastMath, withFile.warnings]).toEqual([true, []]);
}, 120_000);
