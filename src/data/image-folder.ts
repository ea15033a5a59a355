// Node-only: your own pictures as a dataset, in the layout torchvision's ImageFolder and Keras'
// image_dataset_from_directory read (DIR/train/<class>/*.png, DIR/test/<class>/*.png), and
// converting between such a folder and IDX files.
import { existsSync, readdirSync, statSync } from "node:fs";
import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { basename, dirname, extname, join } from "node:path";
import { encode } from "fast-png";
import { IMAGE_SIDE, PIXELS } from "../model/geometry.js";
import { DatasetError, subset, type Dataset } from "./datasets.js";
import { writeIdx } from "./idx.js";
import { digitImageFromPng, ImageError } from "./png.js";
import { CLASSES_FILE, checkClassCount, MNIST_FILES, readClassesFile } from "./node-files.js";
import { mnistPixels, toMnistImage, type DigitImage } from "./preprocess.js";

/** A dataset with its class names (label i is classNames[i]), as read from a folder. */
export interface NamedDataset {
  train: Dataset;
  test: Dataset;
  classNames: string[];
  dir: string;
  /** True when the folder has no test/ and every fifth picture of each class was held out as the test set. */
  heldOut: boolean;
}

/** Picture formats we are asked to read but do not decode: a clear error rather than a silent skip. */
const OTHER_PICTURES = new Set([".jpg", ".jpeg", ".gif", ".bmp", ".webp", ".tif", ".tiff", ".avif", ".heic"]);

const isFolder = (path: string): boolean => existsSync(path) && statSync(path).isDirectory();

/** Whether `dir` is laid out as an image folder: a train/ sub-folder holding class folders. */
export function isImageFolder(dir: string): boolean {
  const train = join(dir, "train");
  return isFolder(train) && readdirSync(train).some((name) => !name.startsWith(".") && isFolder(join(train, name)));
}

/** The class folders of `split` (train/ or test/), sorted by name (sort()'s code-unit order; torchvision sorts by code points, the same outside astral characters). */
function classFolders(split: string): string[] {
  const entries = readdirSync(split).filter((name) => !name.startsWith("."));
  const loose = entries.find((name) => extname(name).toLowerCase() === ".png");
  if (loose !== undefined) {
    throw new DatasetError(`${join(split, loose)}: a picture directly in ${basename(split)}/; put each picture in a folder named after its class (${basename(split)}/<class>/${loose}).`, join(split, loose));
  }
  return entries.filter((name) => isFolder(join(split, name))).sort();
}

/**
 * The class names of an image folder: its classes.txt (label order), else its train/ class folders
 * sorted by name. Cheap: lists folders, reads no picture.
 */
export function imageFolderClasses(dir: string): string[] {
  const folders = classFolders(join(dir, "train"));
  const listed = readClassesFile(dir);
  if (listed === undefined) {
    checkClassCount(folders.length, join(dir, "train"));
    return folders;
  }
  const unlisted = folders.find((f) => !listed.includes(f));
  if (unlisted !== undefined) throw new DatasetError(`${join(dir, "train", unlisted)}: a class folder that ${join(dir, CLASSES_FILE)} does not list. Add it there, or remove the folder.`, join(dir, CLASSES_FILE));
  return listed;
}

/** The PNG files of a class folder, sorted by name; other pictures are an error, other files ignored. */
async function pngFiles(folder: string): Promise<string[]> {
  const names = (await readdir(folder)).filter((n) => !n.startsWith(".")).sort();
  const other = names.find((n) => OTHER_PICTURES.has(extname(n).toLowerCase()));
  if (other !== undefined) throw new ImageError(`lenet-wasm reads PNG pictures only; convert this one to PNG (for example: convert ${other} ${basename(other, extname(other))}.png).`, join(folder, other));
  return names.filter((n) => extname(n).toLowerCase() === ".png");
}

interface Picture {
  file: string;
  label: number;
  /** Its rank within its class (file-name order) and the class's size: for interleaving classes. */
  rank: number;
  of: number;
}

/** The pictures of one split, per class in file-name order, labelled by `classNames`. */
async function listSplit(split: string, classNames: readonly string[], allowMissing: boolean): Promise<Picture[][]> {
  const folders = classFolders(split);
  const unknown = folders.find((f) => !classNames.includes(f));
  if (unknown !== undefined) {
    throw new DatasetError(`${join(split, unknown)}: class "${unknown}" is not one of the model's or train/'s classes (${classNames.join(", ")}).`, join(split, unknown));
  }
  const perClass: Picture[][] = [];
  for (const folder of folders) {
    const files = await pngFiles(join(split, folder));
    if (files.length === 0 && !allowMissing) throw new DatasetError(`${join(split, folder)}: no PNG pictures in this class folder. Add some, or remove the folder.`, join(split, folder));
    const label = classNames.indexOf(folder);
    perClass.push(files.map((f, rank) => ({ file: join(split, folder, f), label, rank, of: files.length })));
  }
  return perClass;
}

/**
 * The order pictures are read in. When every file name of the split is a distinct number (00042.png,
 * as writeImageFolder names them), by that number: a folder written from IDX files reads back in
 * their order. Otherwise the classes are interleaved in proportion (each in file-name order), so that
 * any run of pictures, the validation images at the end included, holds every class in its share.
 */
function readingOrder(pictures: Picture[]): Picture[] {
  const numbers = pictures.map((p) => (/^\d+\.png$/i.test(basename(p.file)) ? Number.parseInt(basename(p.file), 10) : NaN));
  if (numbers.every((n) => !Number.isNaN(n)) && new Set(numbers).size === numbers.length) {
    const at = new Map(pictures.map((p, i) => [p, numbers[i]!]));
    return [...pictures].sort((a, b) => at.get(a)! - at.get(b)!);
  }
  const key = (p: Picture) => (p.rank + 0.5) / p.of;
  return [...pictures].sort((a, b) => key(a) - key(b) || a.label - b.label);
}

/**
 * Reads pictures into one block of 28x28 images and labels. When every picture is 28x28 grey (a
 * dataset saved as PNG, as writeImageFolder writes one), each is taken as it is; otherwise each goes
 * through toMnistImage, as `predict` does, and one with nothing in it is an error naming it.
 */
async function readPictures(pictures: Picture[], progress: (done: number, total: number) => void): Promise<Dataset> {
  const count = pictures.length, images = new Uint8Array(count * PIXELS), labels = new Uint8Array(count);
  const greyOnly: number[] = []; // grey 28x28 pictures taken as they are, for now
  let allGrey = true;
  const preprocess = (picture: DigitImage, at: number) => {
    const pixels = toMnistImage(picture);
    if (pixels === null) throw new ImageError("nothing to learn from: the picture is blank, or its ink is too faint or too small (see findDigit). Remove it, or fix it.", pictures[at]!.file);
    images.set(pixels, at * PIXELS);
  };
  const CHUNK = 64; // files read at once
  for (let start = 0; start < count; start += CHUNK) {
    const chunk = pictures.slice(start, start + CHUNK);
    const bytes = await Promise.all(chunk.map((p) => readFile(p.file)));
    chunk.forEach((p, i) => {
      const picture = digitImageFromPng(bytes[i]!, p.file), grey = mnistPixels(picture);
      labels[start + i] = p.label;
      if (grey !== null) {
        images.set(grey, (start + i) * PIXELS);
        greyOnly.push(start + i);
      } else {
        allGrey = false;
        preprocess(picture, start + i);
      }
    });
    progress(Math.min(start + CHUNK, count), count);
  }
  if (!allGrey) for (const at of greyOnly) preprocess({ width: IMAGE_SIDE, height: IMAGE_SIDE, data: images.slice(at * PIXELS, (at + 1) * PIXELS) }, at);
  return { images, labels, count };
}

export interface ReadImageFolderOptions {
  /** Class names in label order, e.g. a model's: folders are labelled by these names. Default: the folder's own (imageFolderClasses). */
  classNames?: readonly string[];
  /** Called as pictures are read: how many so far, of how many. */
  onProgress?: (done: number, total: number) => void;
}

/**
 * Reads `dir/train/<class>/*.png` and `dir/test/<class>/*.png` as a dataset (torchvision's
 * ImageFolder layout). Class names come from the folder names (sorted), or from dir/classes.txt
 * when there is one (label order). Pictures may have any size and colour: when all are 28x28 grey
 * (a dataset saved as PNG) they are taken as they are; otherwise each is preprocessed as `predict`
 * does (toMnistImage). Without a test/ folder, every fifth picture of each class (file-name order)
 * is held out as the test set.
 * @throws DatasetError for a folder that is not laid out so; ImageError naming a picture that cannot be used
 */
export async function readImageFolder(dir: string, options: ReadImageFolderOptions = {}): Promise<NamedDataset> {
  if (!isFolder(dir)) throw new DatasetError(`${dir}: no such folder.`, dir);
  if (!isImageFolder(dir)) {
    throw new DatasetError(`${dir}: not an image folder; expected ${join(dir, "train")}/<class>/*.png (and test/<class>/*.png), one folder per class.`, dir);
  }
  const classNames = options.classNames ? [...options.classNames] : imageFolderClasses(dir);
  const trainClasses = await listSplit(join(dir, "train"), classNames, false);
  const testDir = join(dir, "test"), heldOut = !isFolder(testDir);
  let train: Picture[], test: Picture[];
  if (heldOut) {
    const fifth = (p: Picture) => p.rank % 5 === 4;
    train = trainClasses.flatMap((c) => c.filter((p) => !fifth(p)).map((p, rank, all) => ({ ...p, rank, of: all.length })));
    test = trainClasses.flatMap((c) => c.filter(fifth).map((p, rank, all) => ({ ...p, rank, of: all.length })));
  } else {
    train = trainClasses.flat();
    test = (await listSplit(testDir, classNames, true)).flat();
  }
  if (test.length === 0) throw new DatasetError(`${heldOut ? join(dir, "train") : testDir}: no test pictures${heldOut ? " (every fifth of each class is held out when there is no test/ folder: add pictures, or a test/ folder)" : ""}.`, dir);
  // Both halves at once: whether pictures are taken as they are is decided for the whole folder.
  const all = await readPictures([...readingOrder(train), ...readingOrder(test)], (done, total) => options.onProgress?.(done, total));
  return { train: subset(all, 0, train.length), test: subset(all, train.length, test.length), classNames, dir, heldOut };
}

/** A class name as a folder name: characters no folder name can hold become "-"; no leading dot (hidden). */
export function classFolderName(name: string): string {
  const safe = name.replace(/[/\\\0]/g, "-").replace(/^\./, "_").trim();
  return safe === "" || safe === "." || safe === ".." ? `class-${safe.length}` : safe;
}

/** What convert writes: a dataset with its class names. */
export interface DatasetToWrite {
  train: Dataset;
  test: Dataset;
  classNames: readonly string[];
}

/**
 * Writes `dir` whole or not at all: into a sibling folder first, renamed to `dir` when complete.
 * `dir` must not exist, or be an empty folder.
 */
async function writeFolderAtomic(dir: string, fill: (temp: string) => Promise<void>): Promise<void> {
  if (existsSync(dir) && (!isFolder(dir) || readdirSync(dir).length > 0)) {
    throw new DatasetError(`${dir} already exists and is not an empty folder: nothing was written. Choose a new folder.`, dir);
  }
  const temp = join(dirname(dir), `.${basename(dir)}.${process.pid}.partial`);
  await rm(temp, { recursive: true, force: true });
  try {
    await mkdir(temp, { recursive: true });
    await fill(temp);
    await rm(dir, { recursive: true, force: true }); // an empty folder, checked above
    await rename(temp, dir);
  } catch (err) {
    await rm(temp, { recursive: true, force: true });
    throw err;
  }
}

/**
 * Writes a dataset as an image folder: dir/train/<class>/<n>.png and dir/test/<class>/<n>.png
 * (28x28 grey PNGs; n is the image's index, so that readImageFolder reads them back in order), and
 * dir/classes.txt with the class folders' names in label order. Whole or not at all.
 */
export async function writeImageFolder(dir: string, data: DatasetToWrite, onProgress?: (done: number, total: number) => void): Promise<void> {
  const folders = data.classNames.map(classFolderName);
  const clash = folders.find((f, i) => folders.indexOf(f) !== i);
  if (clash !== undefined) throw new DatasetError(`two classes would share the folder name "${clash}": rename one of them.`);
  checkClassCount(folders.length, "the dataset");
  const total = data.train.count + data.test.count;
  await writeFolderAtomic(dir, async (temp) => {
    let done = 0;
    for (const [split, set] of [["train", data.train], ["test", data.test]] as const) {
      for (const folder of folders) await mkdir(join(temp, split, folder), { recursive: true });
      const digits = String(Math.max(set.count - 1, 0)).length;
      for (let n = 0; n < set.count; n++) {
        const label = set.labels[n]!;
        if (label >= folders.length) throw new DatasetError(`${split} image ${n} has label ${label}, but there are ${folders.length} class names.`);
        const png = encode({ width: IMAGE_SIDE, height: IMAGE_SIDE, data: set.images.subarray(n * PIXELS, (n + 1) * PIXELS), channels: 1, depth: 8 });
        await writeFile(join(temp, split, folders[label]!, `${String(n).padStart(Math.max(5, digits), "0")}.png`), png);
        if (++done % 500 === 0 || done === total) onProgress?.(done, total);
      }
    }
    await writeFile(join(temp, CLASSES_FILE), folders.join("\n") + "\n");
  });
}

/**
 * Writes a dataset as the four MNIST IDX files (train-images-idx3-ubyte, ...; plain) and
 * classes.txt, into a new or empty folder `dir`. Whole or not at all.
 */
export async function writeIdxFolder(dir: string, data: DatasetToWrite): Promise<void> {
  checkClassCount(data.classNames.length, "the dataset");
  const lines = data.classNames.find((n) => /[\r\n]/.test(n) || n.trim() === "");
  if (lines !== undefined) throw new DatasetError(`class name ${JSON.stringify(lines)} cannot be a line of ${CLASSES_FILE}: rename it.`);
  await writeFolderAtomic(dir, async (temp) => {
    const images = (set: Dataset) => writeIdx({ dtype: "u8", dims: [set.count, IMAGE_SIDE, IMAGE_SIDE], data: set.images.subarray(0, set.count * PIXELS) });
    const labels = (set: Dataset) => writeIdx({ dtype: "u8", dims: [set.count], data: set.labels.subarray(0, set.count) });
    await writeFile(join(temp, MNIST_FILES.trainImages), images(data.train));
    await writeFile(join(temp, MNIST_FILES.trainLabels), labels(data.train));
    await writeFile(join(temp, MNIST_FILES.testImages), images(data.test));
    await writeFile(join(temp, MNIST_FILES.testLabels), labels(data.test));
    await writeFile(join(temp, CLASSES_FILE), data.classNames.join("\n") + "\n");
  });
}

