// MNIST-style datasets (28x28 uint8 images, labels 0..9 or 0..N-1) from IDX bytes, and splits. Runs in Node
// and browsers; the images stay uint8 (47 MB for 60k) and are scaled per batch by LeNet5.setBatch.
import { OptionError } from "../model/option-error.js";
import { parseIdx, type IdxArray } from "./idx.js";
import { INPUT_SIDE, CLASSES, IMAGE_SIDE, PIXELS } from "../model/geometry.js";

/** The datasets lenet-wasm knows by name, and their class names (index = label). */
export const CLASS_NAMES = {
  mnist: ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"],
  "fashion-mnist": ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"],
} as const satisfies Record<string, readonly string[]>;

export type DatasetName = keyof typeof CLASS_NAMES;

/** `dataset`'s class names when it has 10 classes; for another number of classes, "0", "1", ... */
export function defaultClassNames(dataset: DatasetName, classes: number = CLASSES): string[] {
  return classes === CLASSES ? [...CLASS_NAMES[dataset]] : Array.from({ length: classes }, (_, c) => String(c));
}

/**
 * `name` as a dataset name.
 * @throws OptionError naming the datasets there are
 */
export function datasetName(name: string): DatasetName {
  if (!Object.hasOwn(CLASS_NAMES, name)) throw new OptionError("dataset", `must be one of ${Object.keys(CLASS_NAMES).join(", ")}, got "${name}"`);
  return name as DatasetName;
}

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
 * Whether `a` lives in shared memory. Engines without SharedArrayBuffer (a page that is not
 * cross-origin isolated) have no such global at all: nothing of theirs is shared.
 */
export const isShared = (a: Uint8Array): boolean => typeof SharedArrayBuffer !== "undefined" && a.buffer instanceof SharedArrayBuffer;

/** Side of the 32x32 input field of the 1998 paper (a 28x28 digit inside a blank border of 2). */
export const FIELD_SIDE = INPUT_SIDE;

/**
 * 28x28 images from `count` 32x32 ones (u8, row-major) whose 2-pixel border is blank (0): the
 * paper's input field, cropped without losing a pixel. Shared memory in, shared memory out.
 * `first`: the number of the first image, for the error message.
 * @throws DatasetError naming the first image with ink in its border
 */
export function cropField(images: Uint8Array, count: number, file: string, first = 0): Uint8Array {
  const pad = (FIELD_SIDE - IMAGE_SIDE) / 2, area = FIELD_SIDE * FIELD_SIDE;
  const out = isShared(images) ? new Uint8Array(new SharedArrayBuffer(count * PIXELS)) : new Uint8Array(count * PIXELS);
  for (let n = 0; n < count; n++) {
    for (let y = 0; y < FIELD_SIDE; y++) {
      const row = images.subarray(n * area + y * FIELD_SIDE, n * area + (y + 1) * FIELD_SIDE);
      const inside = y >= pad && y < pad + IMAGE_SIDE;
      for (let x = 0; x < FIELD_SIDE; x++) {
        if ((!inside || x < pad || x >= pad + IMAGE_SIDE) && row[x] !== 0) {
          throw new DatasetError(`${file}: 32x32 images are read as 28x28 digits in a blank 2-pixel border (the 1998 paper's input field), ` +
            `but image ${first + n} has ink (${row[x]}) at row ${y}, column ${x}. Crop or scale the images to 28x28.`, file);
        }
      }
      if (inside) out.set(row.subarray(pad, pad + IMAGE_SIDE), (n * IMAGE_SIDE + y - pad) * IMAGE_SIDE);
    }
  }
  return out;
}

/**
 * Builds a dataset from the bytes of an images file (n x 28 x 28 u8, or n x 32 x 32 with a blank
 * 2-pixel border: see cropField) and a labels file (n u8), plain or gzipped. Checks shapes,
 * matching counts and that every label is 0..classes-1.
 */
export function datasetFromIdx(imageBytes: Uint8Array, labelBytes: Uint8Array, names = { images: "images", labels: "labels" }, classes = CLASSES): Dataset {
  // Shared when the bytes are (node-files.ts reads files into shared memory): gzipped data stays shared.
  const shared = isShared(imageBytes);
  const imagesIdx = parseIdx(imageBytes, { file: names.images, shared });
  const labelsIdx = parseIdx(labelBytes, { file: names.labels, shared });
  const raw = expectU8(imagesIdx, 3, names.images);
  const labels = expectU8(labelsIdx, 1, names.labels);
  const [count, rows, cols] = imagesIdx.dims as [number, number, number];
  const field = rows === FIELD_SIDE && cols === FIELD_SIDE;
  if (!field && (rows !== IMAGE_SIDE || cols !== IMAGE_SIDE)) {
    throw new DatasetError(`${names.images}: images are ${rows}x${cols}; the networks read ${IMAGE_SIDE}x${IMAGE_SIDE} images (or ${FIELD_SIDE}x${FIELD_SIDE} with a blank 2-pixel border).`, names.images);
  }
  const images = field ? cropField(raw, count, names.images) : raw;
  checkLabels(labels, count, names, classes);
  return { images, labels, count };
}

/** `count` labels, each 0..classes-1, or a DatasetError naming the file. */
function checkLabels(labels: Uint8Array, count: number, names: { images: string; labels: string }, classes: number): void {
  if (labels.length !== count) {
    throw new DatasetError(`${names.labels} has ${labels.length} labels but ${names.images} has ${count} images: are they from the same set (train vs t10k)?`, names.labels);
  }
  const bad = labels.findIndex((l) => l >= classes);
  if (bad >= 0) {
    const hint = classes === CLASSES ? " For more classes, pass --classes N (API: the classes option)." : "";
    throw new DatasetError(`${names.labels}: label ${labels[bad]} at index ${bad} is outside 0..${classes - 1}.${hint}`, names.labels);
  }
}

/**
 * What datasetFromIdx checks, without the pixels: the images file by its first 16 bytes (`imageHead`)
 * and its size, the labels file whole. Returns false when the images header is not a plain
 * n x 28 x 28 or n x 32 x 32 u8 one of that size (gzipped, say): then only reading the files whole
 * (datasetFromIdx) can check them, and say what is wrong. What only the pixels can show (ink in a
 * 32x32 image's border) is left to the real read.
 */
export function checkIdxPair(imageHead: Uint8Array, imageFileSize: number, labelBytes: Uint8Array, names = { images: "images", labels: "labels" }, classes = CLASSES): boolean {
  if (imageHead.length < 16) return false;
  const view = new DataView(imageHead.buffer, imageHead.byteOffset, 16);
  const [count, rows, cols] = [view.getUint32(4), view.getUint32(8), view.getUint32(12)];
  if (view.getUint32(0) !== 0x00000803 || rows !== cols || (rows !== IMAGE_SIDE && rows !== FIELD_SIDE) || imageFileSize !== 16 + count * rows * cols) return false;
  checkLabels(expectU8(parseIdx(labelBytes, { file: names.labels }), 1, names.labels), count, names, classes);
  return true;
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
    throw new OptionError("validation", `must be an integer in 0..${data.count - 1} (the training set has ${data.count} images), got ${validationCount}`);
  }
  const trainCount = data.count - validationCount;
  return { train: subset(data, 0, trainCount), validation: subset(data, trainCount, validationCount) };
}
