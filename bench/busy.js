// `npm run bench:busy`: training on a machine whose cores are busy with other work, as users' are.
// Starts N other CPU-bound processes (default 1; --others N), then trains one epoch of MNIST
// (55,000 images) with 1 thread, with all threads adaptive (the default: as many as is fastest)
// and with all threads on every batch, in turn, --rounds times (default 2); prints images/s, the
// batches each number of threads ran, and the ratios to 1 thread. The weights are the same in all.
// Each ratio is the median of the rounds' own ratios (a run over that round's 1-thread run, timed
// beside it): a machine whose speed drifts between rounds (a shared VM's can by 1.5x within a
// minute) then moves both numbers of a ratio, not one. Each round starts with a different run.
// Each round also times the machine itself: as many copies of the bench's f32x4 ceiling loop as
// threads, at once, against one copy alone (in worker threads, alternating). Their ratio is what
// the cores give any CPU-bound work just then (a VM's two vCPUs can give 1.3x one, not 2x): the
// bound for training's.
// Usage: npm run bench:busy [-- --others N] [-- --rounds R] [-- --json]
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { parseArgs } from "node:util";
import { Worker } from "node:worker_threads";
import { LeNet5, splitValidation, train } from "../build/index.js";
import { readMnist } from "../build/node.js";
import { median } from "./median.js";

const { values: flags } = parseArgs({ options: { others: { type: "string" }, rounds: { type: "string" }, json: { type: "boolean" } } });
const others = Number(flags.others ?? 1), rounds = Number(flags.rounds ?? 2), threads = availableParallelism();
const data = splitValidation((await readMnist()).train, 5000).train;
// Compiled before the other processes start, so a missing build/ceiling.wasm fails here, not later.
const ceiling = new WebAssembly.Module(readFileSync(new URL("../build/ceiling.wasm", import.meta.url)));
const hogs = Array.from({ length: others }, () => spawn(process.execPath, ["-e", "for (;;) {}"], { stdio: "ignore" }));
process.on("exit", () => { for (const hog of hogs) hog.kill(); }); // also when something throws
await new Promise((resolve) => globalThis.setTimeout(resolve, 300)); // let them start
const runs = { "1 thread": { threads: 1 }, [`${threads} threads, adaptive (default)`]: { threads }, [`${threads} threads, every batch`]: { threads, adaptiveThreads: false } };
const results = Object.fromEntries(Object.keys(runs).map((name) => [name, []]));
const machine = []; // per round: GFLOP/s of one ceiling loop alone and of `threads` at once, and their ratio
try {
  const names = Object.keys(runs);
  for (let r = 0; r < rounds; r++) {
    for (const name of names.map((_, i) => names[(i + r) % names.length])) {
      const options = runs[name];
      const model = await LeNet5.create({ seed: 1 });
      const result = await train(model, data, { epochs: 1, seed: 1, ...options });
      results[name].push({ images_per_second: result.trainImagesPerSecond, thread_batches: result.threadBatches });
    }
    machine.push(await machineScaling(threads));
  }
} finally {
  for (const hog of hogs) hog.kill();
}
const ratio = (name) => median(results[name].map((x, r) => x.images_per_second / results["1 thread"][r].images_per_second));
const machineRatio = median(machine.map((m) => m.ratio));
if (flags.json) {
  const ratios = Object.fromEntries(Object.keys(results).map((name) => [name, ratio(name)]));
  console.log(JSON.stringify({ others, rounds, threads, results, ratios, machine: { per_round: machine, ratio: machineRatio } }));
} else {
  console.log(`lenet-wasm bench:busy | node ${process.version} | ${threads} threads | ${others} other CPU-bound process${others === 1 ? "" : "es"} | 1 epoch, ${data.count} images | median of ${rounds}; ratios: median of each round's`);
  for (const [name, xs] of Object.entries(results)) {
    const ips = median(xs.map((x) => x.images_per_second));
    console.log(`${name.padEnd(34)} ${String(Math.round(ips)).padStart(6)} images/s  ${ratio(name).toFixed(2)}x 1 thread   batches per thread count: ${xs.map((x) => JSON.stringify(x.thread_batches)).join(" ")}`);
  }
  const gflops = median(machine.map((m) => m.all));
  console.log(`${`the machine: ${threads} ceiling loops`.padEnd(34)} ${gflops.toFixed(1).padStart(6)} GFLOP/s   ${machineRatio.toFixed(2)}x 1 loop   (f32x4 mul+add in ${threads} worker threads at once, against one alone: what the cores give CPU-bound work)`);
}

/**
 * The machine's own scaling now: GFLOP/s of `copies` copies of the ceiling loop (peakHeld) run at
 * once, each in a worker thread, over one copy alone, in 5 pairs of 200 ms runs (the machine's speed
 * drifts within a second; each pair starts with the other run than the one before); the median
 * pair's { one, all, ratio }.
 */
async function machineScaling(copies) {
  const source = `const { parentPort, workerData } = require("node:worker_threads");
    const m = new WebAssembly.Instance(workerData).exports;
    m.peakHeld(1e5);
    parentPort.postMessage("ready");
    parentPort.on("message", (ms) => {
      const t0 = performance.now();
      let n = 0;
      while (performance.now() - t0 < ms) { m.peakHeld(1e5); n++; }
      parentPort.postMessage(n * 64e5 / ((performance.now() - t0) / 1000) / 1e9); // peakHeld(1e5): 64e5 flops
    });`;
  const workers = Array.from({ length: copies }, () => new Worker(source, { eval: true, workerData: ceiling }));
  const next = (w) => new Promise((resolve, reject) => {
    const fail = (e) => reject(e instanceof Error ? e : new Error(`a ceiling-loop worker exited (code ${e})`));
    w.once("error", fail); w.once("exit", fail);
    w.once("message", (value) => { w.off("error", fail); w.off("exit", fail); resolve(value); });
  });
  const run = async (ws) => (await Promise.all(ws.map((w) => { const done = next(w); w.postMessage(200); return done; }))).reduce((a, b) => a + b, 0);
  try {
    await Promise.all(workers.map(next));
    const pairs = [];
    for (let i = 0; i < 5; i++) {
      let one, all;
      if (i % 2 === 0) { one = await run(workers.slice(0, 1)); all = await run(workers); }
      else { all = await run(workers); one = await run(workers.slice(0, 1)); }
      pairs.push({ one, all, ratio: all / one });
    }
    return pairs.sort((a, b) => a.ratio - b.ratio)[2];
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
