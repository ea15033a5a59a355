// The explainer's trainer: lenet-wasm's own train() in a Web Worker, from random weights, stopping
// after any batch (yieldEvery 1) so the page can pause, step one batch and resume. It posts the
// weights (for the page to run the drawn digit through) at most every 100 ms and after every step,
// and a confusion matrix on 1,000 test images every 1.5 s. The same seed gives the weights of
// Node's train() on the same data, bit for bit, for any number of workers (the browser tests check it).
import { LeNet5, encodeModel, evaluateDetailed, subset, train } from "./lenet-wasm/lenet-wasm.js";
import { datasets, servedMnist } from "./idx-files.js";

const SNAPSHOT_MS = 100, CONFUSION_MS = 1500, CONFUSION_IMAGES = 1000;
// paused: stop between batches; steps: batches to run while paused (each Step adds one); report: post
// the state at the next stop (a pause or a step just taken).
let model, settings, paused = false, steps = 0, report = false, wake;
const stop = new AbortController();
const post = (message, transfer) => self.postMessage(message, transfer ?? []);

self.onmessage = ({ data: m }) => {
  if (m.type === "start") run(m).catch((err) => post({ type: "error", message: err.message }));
  if (m.type === "pause") [paused, report] = [true, true];
  if (m.type === "resume") paused = false;
  if (m.type === "stop") stop.abort();
  if (m.type === "step") steps++; // paused stays set: one batch on, training stops again
  if (m.type !== "pause" && m.type !== "save") wake?.();
  if (m.type === "save" && model) {
    const bytes = encodeModel(model.getWeights(), { architecture: model.arch.name, training: settings });
    post({ type: "model", bytes }, [bytes.buffer]);
  }
};

async function run({ arch, epochs, seed, threads, files }) {
  const { all: data, test } = datasets(files ? files.map((f) => ({ name: f.name, bytes: new Uint8Array(f.bytes) })) : await servedMnist());
  const check = test ? subset(test, 0, Math.min(CONFUSION_IMAGES, test.count)) : undefined;
  threads = crossOriginIsolated ? Math.max(1, Math.min(threads, 8)) : 1;
  settings = { arch, epochs, batch_size: 32, lr: 0.001, seed, threads, train_images: data.count, trainer: "lenet-wasm explainer" };
  model = await LeNet5.create({ arch, seed, batchSize: 32 });
  post({ type: "info", train: data.count, test: test?.count ?? 0, threads });

  let losses = [], accuracies = [], lastSnapshot = -Infinity, lastConfusion = -Infinity, total = 0, progress;
  const snapshot = () => {
    const weights = model.getWeights();
    post({ type: "snapshot", epoch: progress.epoch, epochs, batch: progress.batch, batches: progress.batches, total, loss: progress.loss, accuracy: progress.accuracy,
      losses, accuracies, weights, paused }, Object.values(weights).map((w) => w.buffer));
    losses = [];
    accuracies = [];
    lastSnapshot = performance.now();
  };
  const confusion = () => {
    if (!check) return;
    const e = evaluateDetailed(model, check, 0);
    post({ type: "confusion", total, confusion: e.confusion, accuracy: e.accuracy });
    lastConfusion = performance.now();
  };
  const result = await train(model, data, {
    epochs, batchSize: 32, seed, threads, signal: stop.signal, yieldEvery: 1,
    onBatchEnd: (p) => {
      total++;
      losses.push(p.batchLoss);
      accuracies.push(p.batchAccuracy);
      progress = p;
      const now = performance.now();
      if (now - lastSnapshot >= SNAPSHOT_MS) snapshot();
      if (now - lastConfusion >= CONFUSION_MS) confusion();
    },
    onYield: async () => {
      if (steps > 0) [steps, report] = [steps - 1, true]; // the step just taken
      if (paused && steps === 0 && report) {
        report = false;
        snapshot();
        confusion();
      }
      while (paused && steps === 0 && !stop.signal.aborted) await new Promise((resolve) => (wake = resolve));
    },
  });
  if (progress) {
    snapshot();
    confusion();
  }
  const seconds = result.history.reduce((n, h) => n + h.seconds, 0) + (result.interrupted ? result.state.epochSeconds : 0);
  const images = progress ? (progress.epoch - 1) * data.count + progress.images : 0;
  post({ type: "done", stopped: result.interrupted, seconds, imagesPerSecond: images / Math.max(seconds, 1e-9) });
}
