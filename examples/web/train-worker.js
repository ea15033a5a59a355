// Trains LeNet-5 in a Web Worker, batch by batch, in exactly the steps and order of lenet-wasm's
// train() with one thread (seeded shuffle per epoch, setBatch, trainStep), so the weights are the
// same bits as Node's (the browser tests check it). It yields to its message queue every 100 ms, so
// pause and stop answer at once.
import { LeNet5, Rng, adamConfig, datasetFromIdx, encodeModel, evaluate, parseIdx, splitValidation, subset } from "./lenet-wasm/lenet-wasm.js";

let model, settings, metrics = {}, paused = false, stopped = false, resume = () => {};
const post = (message) => self.postMessage(message);

self.onmessage = ({ data: m }) => {
  if (m.type === "start") run(m).catch((err) => post({ type: "error", message: err.message }));
  if (m.type === "pause") paused = true;
  if (m.type === "resume" || m.type === "stop") {
    paused = false;
    stopped ||= m.type === "stop";
    resume();
  }
  if (m.type === "save" && model) {
    const bytes = encodeModel(model.getWeights(), { training: settings, metrics });
    self.postMessage({ type: "model", bytes }, [bytes.buffer]);
  }
};

const MNIST = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"];

/** Training and (optional) test sets from IDX files, whatever their names: images are rank 3, labels rank 1, paired by count. */
function datasets(files) {
  const parsed = files.map((f) => ({ ...f, dims: parseIdx(f.bytes, { file: f.name }).dims }));
  const images = parsed.filter((f) => f.dims.length === 3).sort((a, b) => b.dims[0] - a.dims[0]);
  const sets = images.map((img) => {
    const labels = parsed.find((f) => f.dims.length === 1 && f.dims[0] === img.dims[0]);
    if (!labels) throw new Error(`no labels file with ${img.dims[0]} labels for ${img.name}`);
    return datasetFromIdx(img.bytes, labels.bytes, { images: img.name, labels: labels.name });
  });
  if (sets.length === 0) throw new Error("no images file among the files (an IDX file of rank 3)");
  return { all: sets[0], test: sets[1] };
}

async function run({ files, epochs, batchSize, lr, seed, limit, validation: held }) {
  files ??= await Promise.all(MNIST.map(async (name) => {
    const response = await fetch(`mnist/${name}`);
    if (!response.ok) throw new Error(`mnist/${name}: HTTP ${response.status}`);
    return { name, bytes: new Uint8Array(await response.arrayBuffer()) };
  }));
  const { all, test } = datasets(files.map((f) => ({ name: f.name, bytes: new Uint8Array(f.bytes) })));
  const split = held > 0 ? splitValidation(all, held) : { train: all, validation: undefined };
  const data = subset(split.train, 0, Math.min(limit, split.train.count));
  const adam = adamConfig({ lr });
  settings = { epochs, batch_size: batchSize, lr, seed, train_images: data.count, validation_images: held, trainer: "lenet-wasm web worker" };
  model = await LeNet5.create({ seed, batchSize });
  post({ type: "info", train: data.count, validation: split.validation?.count ?? 0, test: test?.count ?? 0 });

  // train()'s loop, one thread, yielding now and then.
  const rng = new Rng(seed);
  const order = Uint32Array.from({ length: data.count }, (_, i) => i);
  const batches = Math.ceil(data.count / batchSize);
  let trainedSeconds = 0, trained = 0;
  for (let epoch = 1; epoch <= epochs && !stopped; epoch++) {
    rng.shuffle(order);
    let lossSum = 0, correct = 0, seen = 0, since = performance.now();
    const progress = () => {
      const now = performance.now();
      trainedSeconds += (now - since) / 1000;
      since = now;
      post({ type: "progress", epoch, epochs, batch: seen / batchSize, batches, seen, loss: lossSum / seen, accuracy: correct / seen,
        imagesPerSecond: (trained + seen) / trainedSeconds, remainingImages: epochs * data.count - trained - seen });
    };
    for (let b = 0; b < batches && !stopped; b++) {
      const start = b * batchSize, B = Math.min(batchSize, data.count - start);
      model.setBatch(data.images, data.labels, B, start, order);
      lossSum += model.trainStep(B, adam) * B;
      correct += model.correctInBatch(B);
      seen += B;
      if (performance.now() - since > 100) {
        progress();
        await new Promise((r) => setTimeout(r)); // let pause/stop/save in
        if (paused) await new Promise((r) => (resume = r));
        since = performance.now(); // paused time does not count
      }
    }
    progress();
    trained += seen;
    const done = { type: "epoch", epoch, loss: lossSum / seen, accuracy: correct / seen, stopped };
    if (split.validation && !stopped) {
      const v = evaluate(model, split.validation);
      Object.assign(done, { valLoss: v.loss, valAccuracy: v.accuracy });
    }
    metrics = { train_loss: done.loss, train_accuracy: done.accuracy, validation_loss: done.valLoss, validation_accuracy: done.valAccuracy };
    post(done);
  }
  if (test) {
    const t = evaluate(model, test);
    Object.assign(metrics, { test_loss: t.loss, test_accuracy: t.accuracy });
  }
  post({ type: "done", stopped, metrics, seconds: trainedSeconds, imagesPerSecond: trained / trainedSeconds });
}
