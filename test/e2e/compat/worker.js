// A dedicated module Worker: inference, and training on 1 or more threads (train() must run in a
// Worker to share batches with threads of its own; without SharedArrayBuffer it runs on 1).
import * as lib from "/lenet-wasm/lenet-wasm.js";
import { base64, testData, weightsBase64 } from "./shared.js";

const data = testData(lib);

self.onmessage = async ({ data: task }) => {
  try {
    const { test, train, weights } = await data;
    if (task.kind === "predict") {
      const model = await lib.LeNet5.create();
      model.setWeights(weights);
      self.postMessage({ probabilities: base64(model.predict(test, 50)) });
    } else {
      const model = await lib.LeNet5.create({ seed: 3 });
      const warnings = [];
      const result = await lib.train(model, train, { epochs: 1, batchSize: 32, seed: 3, threads: task.threads, onWarning: (m) => warnings.push(m) });
      self.postMessage({ weights: weightsBase64(model.getWeights()), threads: result.threads, warnings });
    }
  } catch (err) {
    self.postMessage({ error: String(err?.stack ?? err) });
  }
};
