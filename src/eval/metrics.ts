// What a trained model gets right and wrong: confusion matrix, per-class precision and recall, and
// the most confident mistakes. Runs in Node and browsers.
import { argmax, forEachChunk, type Batch, type Classifier } from "../model/batches.js";
import { CLASS_NAMES, type Dataset } from "../data/datasets.js";

/** Mean loss and accuracy of a model on a dataset. */
export interface Evaluation {
  loss: number;
  accuracy: number;
  correct: number;
  count: number;
}

/** One epoch of training: its loss and accuracy, and validation's when there is a validation set. */
export interface EpochMetrics {
  epoch: number;
  loss: number;
  accuracy: number;
  valLoss?: number;
  valAccuracy?: number;
  /** Seconds spent training in this epoch (validation excluded). */
  seconds: number;
  imagesPerSecond: number;
}

export interface ClassMetrics {
  /** Of the images predicted as this class, the fraction that are. */
  precision: number;
  /** Of the images of this class, the fraction predicted as it (per-class accuracy). */
  recall: number;
  /** Images of this class. */
  support: number;
}

export interface Mistake {
  /** Index of the image in the dataset. */
  index: number;
  label: number;
  predicted: number;
  /** Probability the model gave its (wrong) prediction. */
  confidence: number;
}

export interface DetailedEvaluation extends Evaluation {
  /** confusion[label][predicted] = number of images. */
  confusion: number[][];
  perClass: ClassMetrics[];
  /** The most confident mistakes, most confident first. */
  worst: Mistake[];
}

/** Loss, accuracy, confusion matrix, per-class metrics and the `worstCount` most confident mistakes. */
export function evaluateDetailed(model: Classifier, data: Dataset, worstCount = 36): DetailedEvaluation {
  const N = model.classes;
  const confusion = Array.from({ length: N }, () => new Array<number>(N).fill(0));
  const worst: Mistake[] = [];
  let lossSum = 0, correct = 0;
  const batch: Batch = { images: data.images, labels: data.labels, count: 0, start: 0 };
  forEachChunk(data.count, model.capacity, (start, B) => {
    batch.start = start;
    batch.count = B;
    model.setBatch(batch);
    lossSum += model.evaluateBatch(B);
    const probs = model.batchProbabilities(B);
    for (let b = 0; b < B; b++) {
      const label = data.labels[start + b]!, predicted = argmax(probs, b * N, N);
      confusion[label]![predicted]!++;
      if (predicted === label) {
        correct++;
        continue;
      }
      const confidence = probs[b * N + predicted]!;
      if (worstCount > 0 && (worst.length < worstCount || confidence > worst[worst.length - 1]!.confidence)) {
        worst.push({ index: start + b, label, predicted, confidence });
        worst.sort((x, y) => y.confidence - x.confidence || x.index - y.index);
        if (worst.length > worstCount) worst.pop();
      }
    }
  });
  const perClass = confusion.map((row, c) => {
    const support = row.reduce((a, b) => a + b, 0);
    const predictedAs = confusion.reduce((a, r) => a + r[c]!, 0);
    return { precision: predictedAs === 0 ? 0 : row[c]! / predictedAs, recall: support === 0 ? 0 : row[c]! / support, support };
  });
  return { loss: lossSum / data.count, accuracy: correct / data.count, correct, count: data.count, confusion, perClass, worst };
}

/** Mean cross-entropy loss and accuracy of `model` on `data` (evaluateDetailed without the extras). */
export function evaluate(model: Classifier, data: Dataset): Evaluation {
  const { loss, accuracy, correct, count } = evaluateDetailed(model, data, 0);
  return { loss, accuracy, correct, count };
}

/** The confusion matrix and per-class metrics as a compact text table (for the terminal). */
export function formatConfusion(e: DetailedEvaluation, classNames: readonly string[] = CLASS_NAMES.mnist): string {
  const w = Math.max(5, ...e.confusion.flat().map((n) => String(n).length + 1));
  const pad = (s: string, n = w) => s.padStart(n);
  // Columns are class numbers; rows add the name when it is not just the number.
  const name = (c: number) => (classNames[c] === undefined || classNames[c] === String(c) ? "" : `  ${classNames[c]}`);
  const lines = ["true\\pred".padEnd(10) + e.confusion.map((_, c) => pad(String(c))).join("") + pad("recall", 9) + pad("precision", 11)];
  e.confusion.forEach((row, c) => {
    const m = e.perClass[c]!;
    lines.push(pad(String(c), 9).padEnd(10) + row.map((n) => pad(String(n))).join("") +
      pad(`${(100 * m.recall).toFixed(1)}%`, 9) + pad(`${(100 * m.precision).toFixed(1)}%`, 11) + name(c));
  });
  return lines.join("\n");
}

