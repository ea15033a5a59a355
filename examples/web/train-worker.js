// Trains LeNet-5 in a Web Worker with lenet-wasm's own train(): the same steps, order and bits as
// Node's (the browser tests check it). On a cross-origin isolated page it shares each batch with more
// workers (SharedArrayBuffer + Atomics, as in Node: the same weights for any thread count); otherwise
// it runs alone. train() lets this worker's message queue run every few dozen batches, so pause, stop
// and save answer at once.
import { LeNet5, adamConfig, encodeModel, evaluate, splitValidation, subset, train } from "./lenet-wasm/lenet-wasm.js";
import { datasets, servedMnist } from "./idx-files.js";

let model, settings, metrics = {}, paused = false, resume = () => {};
const stop = new AbortController();
const post = (message) => self.postMessage(message);

self.onmessage = ({ data: m }) => {
  if (m.type === "start") run(m).catch((err) => post({ type: "error", message: err.message }));
  if (m.type === "pause") paused = true;
  if (m.type === "resume" || m.type === "stop") {
    paused = false;
    if (m.type === "stop") stop.abort();
    resume();
  }
  if (m.type === "save" && model) {
    const bytes = encodeModel(model.getWeights(), { training: settings, metrics });
    self.postMessage({ type: "model", bytes }, [bytes.buffer]);
  }
};

async function run({ files, epochs, batchSize, lr, seed, limit, validation: held, threads }) {
  files ??= await servedMnist();
  const { all, test } = datasets(files.map((f) => ({ name: f.name, bytes: new Uint8Array(f.bytes) })));
  const split = held > 0 ? splitValidation(all, held) : { train: all, validation: undefined };
  const data = subset(split.train, 0, Math.min(limit, split.train.count));
  // Several threads need shared memory: a cross-origin isolated page.
  threads = crossOriginIsolated ? Math.max(1, Math.min(threads ?? navigator.hardwareConcurrency ?? 1, 8)) : 1;
  settings = { epochs, batch_size: batchSize, lr, seed, threads, train_images: data.count, validation_images: held, trainer: "lenet-wasm web worker" };
  model = await LeNet5.create({ seed, batchSize });
  post({ type: "info", train: data.count, validation: split.validation?.count ?? 0, test: test?.count ?? 0, threads });

  let before = 0, beforeSeconds = 0, last = 0; // images and seconds of the finished epochs
  const result = await train(model, data, {
    epochs, batchSize, seed, threads, adam: adamConfig({ lr }), validation: split.validation, signal: stop.signal,
    onBatchEnd: (p) => {
      const now = performance.now();
      if (now - last < 100 && p.batch < p.batches) return;
      last = now;
      const imagesPerSecond = (before + p.images) / (beforeSeconds + p.seconds);
      post({ type: "progress", epoch: p.epoch, epochs, batch: p.batch, batches: p.batches, seen: p.images, loss: p.loss, accuracy: p.accuracy,
        imagesPerSecond, remainingImages: epochs * data.count - before - p.images });
    },
    onEpochEnd: (m) => {
      before += data.count;
      beforeSeconds += m.seconds;
      metrics = { train_loss: m.loss, train_accuracy: m.accuracy, validation_loss: m.valLoss, validation_accuracy: m.valAccuracy };
      post({ type: "epoch", epoch: m.epoch, loss: m.loss, accuracy: m.accuracy, valLoss: m.valLoss, valAccuracy: m.valAccuracy, stopped: false });
    },
    onYield: () => (paused ? new Promise((r) => (resume = r)) : undefined),
  });
  if (test) {
    const t = evaluate(model, test);
    Object.assign(metrics, { test_loss: t.loss, test_accuracy: t.accuracy });
  }
  const trained = result.history.reduce((n, h) => n + h.seconds * h.imagesPerSecond, 0) + (result.interrupted ? result.state.seen : 0);
  const seconds = result.history.reduce((n, h) => n + h.seconds, 0) + (result.interrupted ? result.state.epochSeconds : 0);
  post({ type: "done", stopped: result.interrupted, metrics, seconds, imagesPerSecond: trained / seconds });
}
