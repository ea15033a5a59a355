// `npm run bench:ab -- DIR_A DIR_B`: before and after a change, in one process. DIR_A and DIR_B are
// two built checkouts of lenet-wasm (e.g. `git worktree add /tmp/before HEAD~1`, then `npm ci &&
// npm run build` in it). Times the same work with each, in rounds of ~300 ms, A and B in turn (A
// first in even rounds, B in odd ones): one training step (batch 32, 1 thread), f32 predict on 1000
// test images, and int8 predict on 1000 (a seed-1 untrained model quantised: speed does not depend
// on the weights). Prints each one's median speed and the median of the rounds' B/A ratios (> 1: B
// faster), with their range: the two sides of every ratio ran within a second, so the machine's
// drift moves both.
// Usage: npm run bench:ab -- DIR_A DIR_B [--rounds N] [--json]
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { median } from "./median.js";

const { values: flags, positionals: dirs } = parseArgs({ allowPositionals: true, options: { rounds: { type: "string" }, json: { type: "boolean" } } });
const rounds = Number(flags.rounds ?? 15);
const usage = "usage: npm run bench:ab -- DIR_A DIR_B [--rounds N] [--json] (two built checkouts of lenet-wasm; N a positive integer, default 15)";
if (dirs.length !== 2 || !Number.isInteger(rounds) || rounds < 1) throw new Error(usage);
for (const dir of dirs) if (!existsSync(resolve(dir, "build/index.js"))) throw new Error(`${dir}: no build/index.js; run npm ci && npm run build there first. ${usage}`);

/** The three workloads, on one checkout's build. */
async function workloads(dir) {
  const root = pathToFileURL(resolve(dir) + "/build/");
  const { LeNet5, quantize, splitValidation } = await import(new URL("index.js", root).href);
  const { readMnist } = await import(new URL("node.js", root).href);
  const data = await readMnist();
  const { train } = splitValidation(data.train, 5000);
  const trainer = await LeNet5.create({ seed: 1, batchSize: 32 });
  const batch = { images: train.images, labels: train.labels, count: 32, start: 0 };
  let next = 0;
  const model = await LeNet5.create({ seed: 1 });
  const int8 = await quantize(model.getWeights(), train.images.subarray(0, 1000 * 784));
  return {
    "training step, batch 32, 1 thread": { images: 32, run: () => { batch.start = next; trainer.setBatch(batch); trainer.trainStep(32); next = (next + 32) % (train.count - 32); } },
    "inference f32, batch 1000": { images: 1000, run: () => model.predict(data.test.images, 1000) },
    "inference int8, batch 1000": { images: 1000, run: () => int8.predict(data.test.images, 1000) },
  };
}

/** Images per second of `work` over one round of ~300 ms. */
function round(work) {
  const t = performance.now();
  let calls = 0;
  while (performance.now() - t < 300) { work.run(); calls++; }
  return (calls * work.images) / ((performance.now() - t) / 1000);
}

const a = await workloads(dirs[0]), b = await workloads(dirs[1]);
const results = [];
for (const name of Object.keys(a)) {
  for (let i = 0; i < 3; i++) { round(a[name]); round(b[name]); } // warm up both
  const speedA = [], speedB = [], ratios = [];
  for (let r = 0; r < rounds; r++) {
    const [first, second] = r % 2 === 0 ? [a, b] : [b, a];
    const one = round(first[name]), other = round(second[name]);
    speedA.push(r % 2 === 0 ? one : other);
    speedB.push(r % 2 === 0 ? other : one);
    ratios.push(speedB[r] / speedA[r]);
  }
  results.push({ name, a_images_per_second: median(speedA), b_images_per_second: median(speedB), b_over_a: median(ratios), min: Math.min(...ratios), max: Math.max(...ratios) });
}
if (flags.json) process.stdout.write(JSON.stringify({ a: dirs[0], b: dirs[1], rounds, results }) + "\n");
else {
  console.log(`A: ${dirs[0]}\nB: ${dirs[1]}\n${rounds} alternating rounds of ~300 ms each; images/s (median), B/A (median of the rounds' ratios, range; > 1: B faster)`);
  for (const r of results) {
    console.log(`${r.name.padEnd(36)} A ${r.a_images_per_second.toFixed(0).padStart(7)}  B ${r.b_images_per_second.toFixed(0).padStart(7)}  B/A ${r.b_over_a.toFixed(3)} (${r.min.toFixed(3)}-${r.max.toFixed(3)})`);
  }
}
