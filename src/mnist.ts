// MNIST-style datasets (28x28 uint8 images, labels 0..9) from IDX bytes, and splits. Runs in Node
// and browsers; the images stay uint8 (47 MB for 60k) and are scaled per batch by LeNet5.setBatch.
import { parseIdx, type IdxArray } from "./idx.js";
import { CLASSES, IMAGE_SIDE, PIXELS } from "./lenet.js";

/** The datasets lenet-wasm knows by name, and their class names (index = label). */
export const CLASS_NAMES = {
  mnist: ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"],
  "fashion-mnist": ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"],
} as const satisfies Record<string, readonly string[]>;

export type DatasetName = keyof typeof CLASS_NAMES;

/** `count` images of 28x28 uint8 pixels (row-major, one after another) and their labels. */
export interface Dataset {
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
}

/** A dataset file that parses as IDX but is not what the model needs. */
export class DatasetError extends Error {
  override readonly name = "DatasetError";
  constructor(message: string, readonly file?: string) {
    super(message);
  }
}

function expectU8(array: IdxArray, rank: number, file: string): Uint8Array {
  if (array.dtype !== "u8" || array.dims.length !== rank) {
    throw new DatasetError(`${file}: expected a rank-${rank} u8 IDX array, found rank ${array.dims.length} ${array.dtype} [${array.dims.join(", ")}]. Is this the right file?`, file);
  }
  return array.data as Uint8Array;
}

/**
 * Builds a dataset from the bytes of an images file (n x 28 x 28 u8) and a labels file (n u8),
 * plain or gzipped. Checks shapes, matching counts and that every label is 0..classes-1.
 */
export function datasetFromIdx(imageBytes: Uint8Array, labelBytes: Uint8Array, names = { images: "images", labels: "labels" }, classes = CLASSES): Dataset {
  // Shared when the bytes are (node-io reads files into shared memory): gzipped data stays shared.
  const shared = imageBytes.buffer instanceof SharedArrayBuffer;
  const imagesIdx = parseIdx(imageBytes, { file: names.images, shared });
  const labelsIdx = parseIdx(labelBytes, { file: names.labels, shared });
  const images = expectU8(imagesIdx, 3, names.images);
  const labels = expectU8(labelsIdx, 1, names.labels);
  const [count, rows, cols] = imagesIdx.dims as [number, number, number];
  if (rows !== IMAGE_SIDE || cols !== IMAGE_SIDE) {
    throw new DatasetError(`${names.images}: images are ${rows}x${cols}, the model needs ${IMAGE_SIDE}x${IMAGE_SIDE}.`, names.images);
  }
  if (labels.length !== count) {
    throw new DatasetError(`${names.labels} has ${labels.length} labels but ${names.images} has ${count} images: are they from the same set (train vs t10k)?`, names.labels);
  }
  const bad = labels.findIndex((l) => l >= classes);
  if (bad >= 0) {
    const hint = classes === CLASSES ? " For more classes, pass --classes N (API: the classes option)." : "";
    throw new DatasetError(`${names.labels}: label ${labels[bad]} at index ${bad} is outside 0..${classes - 1}.${hint}`, names.labels);
  }
  return { images, labels, count };
}

/** Images [start, start + count) as a dataset, without copying. */
export function subset(data: Dataset, start: number, count: number): Dataset {
  if (start < 0 || count < 0 || start + count > data.count) throw new RangeError(`subset [${start}, ${start + count}) is outside 0..${data.count}`);
  return {
    images: data.images.subarray(start * PIXELS, (start + count) * PIXELS),
    labels: data.labels.subarray(start, start + count),
    count,
  };
}

/**
 * Holds out the LAST `validationCount` images (as Keras's validation_split does) for validation;
 * they are never trained on. No copies.
 */
export function splitValidation(data: Dataset, validationCount: number): { train: Dataset; validation: Dataset } {
  if (!Number.isInteger(validationCount) || validationCount < 0 || validationCount >= data.count) {
    throw new RangeError(`validation size must be an integer in 0..${data.count - 1}, got ${validationCount}`);
  }
  const trainCount = data.count - validationCount;
  return { train: subset(data, 0, trainCount), validation: subset(data, trainCount, validationCount) };
}
