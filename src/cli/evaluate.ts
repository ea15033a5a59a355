// `lenet-wasm evaluate`: test accuracy, loss and confusion matrix of a saved model (f32 or int8).
import { evaluateDetailed, formatConfusion } from "../eval/metrics.js";
import { LeNet5Int8 } from "../model/int8.js";
import { loadPredictor, modelData, percent } from "./common.js";
import type { Flags } from "./flags.js";

export async function commandEvaluate(flags: Flags): Promise<void> {
  const { model, info, path, data: opened } = await loadPredictor(flags);
  const data = opened ?? (await modelData(flags, info));
  const testSet = await data.test();
  const int8 = model instanceof LeNet5Int8;
  const started = performance.now();
  const test = evaluateDetailed(model, testSet);
  const seconds = (performance.now() - started) / 1000;
  if (flags.json === true) {
    process.stdout.write(JSON.stringify({
      command: "evaluate", model: path, dataset: data.dataset, data: data.dir, int8, classes: data.classNames,
      test_accuracy: test.accuracy, test_loss: test.loss, count: test.count, seconds,
      images_per_second: test.count / seconds, confusion: test.confusion, per_class: test.perClass, worst: test.worst.slice(0, 10),
      training: info.training ?? null,
    }) + "\n");
  } else {
    process.stdout.write(`Test accuracy${int8 ? " (int8)" : ""}: ${percent(test.accuracy)} (loss ${test.loss.toFixed(4)}) on ${test.count} images from ${data.dir}\n\n${formatConfusion(test, data.classNames)}\n`);
  }
}
