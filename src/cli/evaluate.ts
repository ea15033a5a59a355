// `lenet-wasm evaluate`: test accuracy, loss and confusion matrix of a saved model (f32 or int8).
import { readMnist } from "../data/node-files.js";
import { evaluateDetailed, formatConfusion } from "../eval/metrics.js";
import { LeNet5Int8 } from "../model/int8.js";
import { classNames, dataFolder, datasetFlag, loadPredictor, percent } from "./common.js";
import type { Flags } from "./flags.js";

export async function commandEvaluate(flags: Flags): Promise<void> {
  const { model, info, path, data: read } = await loadPredictor(flags);
  const dataset = datasetFlag(flags, info.training?.dataset);
  const data = read ?? await readMnist(await dataFolder(flags, dataset), dataset, info.classes);
  const int8 = model instanceof LeNet5Int8;
  const started = performance.now();
  const test = evaluateDetailed(model, data.test);
  const seconds = (performance.now() - started) / 1000;
  if (flags.json === true) {
    process.stdout.write(JSON.stringify({
      command: "evaluate", model: path, dataset, int8, classes: classNames(dataset, model.classes), test_accuracy: test.accuracy, test_loss: test.loss, count: test.count, seconds,
      images_per_second: test.count / seconds, confusion: test.confusion, per_class: test.perClass, worst: test.worst.slice(0, 10),
      training: info.training ?? null,
    }) + "\n");
  } else {
    process.stdout.write(`Test accuracy${int8 ? " (int8)" : ""}: ${percent(test.accuracy)} (loss ${test.loss.toFixed(4)}) on ${test.count} images from ${data.dir}\n\n${formatConfusion(test, classNames(dataset, model.classes))}\n`);
  }
}
