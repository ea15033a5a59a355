// Builds build/browser/: lenet-wasm.js, one minified ESM file with the kernels inlined (for
// <script type="module"> without a bundler, and the "browser" export that bundlers pick), and the
// .wasm files beside it. Node-only files are swapped for their src/*.browser.ts twins, so the bundle
// holds no node: import. Prints the sizes, gzipped; fails if what an inference page needs is over BUDGET.
import { build } from "esbuild";
import { copyFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { gzipSync } from "node:zlib";

const out = "build/browser";
// JS + wasm of the inference bundle, gzipped: what a page that classifies digits loads.
const BUDGET = 30 * 1024;

/** `./x.js` or `../dir/x.js` imported from src/ resolves to x.browser.ts beside it when that file exists. */
const browserTwins = {
  name: "browser-twins",
  setup(b) {
    b.onResolve({ filter: /^\.\.?\/[\w/-]+\.js$/ }, ({ path, resolveDir }) => {
      const twin = resolve(resolveDir, `${path.slice(0, -3)}.browser.ts`);
      return existsSync(twin) ? { path: twin } : undefined;
    });
  },
};

const options = {
  bundle: true, format: "esm", platform: "browser", target: "es2022", minify: true,
  legalComments: "none", loader: { ".wasm": "binary" }, plugins: [browserTwins], logLevel: "warning",
};

mkdirSync(out, { recursive: true });
await build({ ...options, entryPoints: ["src/index.ts"], outfile: `${out}/lenet-wasm.js` });
// The data-parallel training worker, started by train({ threads > 1 }) from beside the bundle.
await build({ ...options, entryPoints: ["src/train/train-worker.browser.ts"], outfile: `${out}/train-worker.js` });
for (const f of ["lenet.wasm", "lenet.relaxed.wasm"]) copyFileSync(`build/${f}`, `${out}/${f}`);

// What an inference-only page loads: lenet-wasm/inference (model, model file, preprocessing), with
// the module of forward kernels alone (assembly/inference.ts) inlined instead of the whole one.
const inferenceModule = {
  name: "inference-module",
  setup(b) {
    b.onResolve({ filter: /\/build\/lenet\.wasm$/ }, ({ path, resolveDir }) => ({ path: resolve(resolveDir, path.replace(/lenet\.wasm$/, "lenet.inference.wasm")) }));
  },
};
await build({ ...options, plugins: [inferenceModule, browserTwins], entryPoints: ["src/inference.ts"], outfile: `${out}/inference.js` });

const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
const row = (name, bytes) => {
  const gz = gzipSync(bytes, { level: 9 }).length;
  console.log(`  ${name.padEnd(64)} ${kb(bytes.length).padStart(9)} ${kb(gz).padStart(9)} gzipped`);
  return gz;
};
const bundle = readFileSync(`${out}/lenet-wasm.js`), inference = readFileSync(`${out}/inference.js`);
const worker = readFileSync(`${out}/train-worker.js`);
for (const [name, bytes] of [["lenet-wasm.js", bundle], ["inference.js", inference], ["train-worker.js", worker]]) {
  for (const bad of ["node:", "eval(", "new Function"]) if (bytes.includes(bad)) throw new Error(`${out}/${name} contains "${bad}"`);
}
console.log(`${out}/ (JS with the default wasm inlined):`);
const full = row("lenet-wasm.js (everything, training included)", bundle);
const inf = row("inference.js (LeNet5, LeNet5Int8, decodeModel, ...)", inference);
row("lenet.wasm (inlined in lenet-wasm.js)", readFileSync(`${out}/lenet.wasm`));
row("lenet.inference.wasm (forward kernels; inlined in inference.js)", readFileSync("build/lenet.inference.wasm"));
row("lenet.relaxed.wasm (fetched only with fastMath)", readFileSync(`${out}/lenet.relaxed.wasm`));
console.log(`inference budget: ${kb(inf)} of ${kb(BUDGET)} gzipped (everything: ${kb(full)})`);
if (inf > BUDGET) throw new Error(`the inference bundle is over its ${kb(BUDGET)} gzipped budget`);
