// Where a command's data comes from: --data (IDX files, or an image folder of your own pictures),
// else the named dataset, installed, cached or downloaded; and the names of its classes.
import { basename, resolve } from "node:path";
import { CLASS_NAMES, datasetName, type Dataset, type DatasetName } from "../data/datasets.js";
import { imageFolderClasses, isImageFolder, readImageFolder, type NamedDataset } from "../data/image-folder.js";
import { checkMnistPart, datasetDir, idxClassNames, readClassesFile, readMnistPart, CLASSES_FILE } from "../data/node-files.js";
import { checkOption, CliError, stringFlag, type Flags } from "./flags.js";
import { countProgress, downloadProgress } from "./progress.js";

/** --dataset, else what the model was trained on, else MNIST. */
export function datasetFlag(flags: Flags, fromModel?: unknown): DatasetName {
  const given = stringFlag(flags, "dataset");
  if (given !== undefined) return checkOption(() => datasetName(given));
  const name = typeof fromModel === "string" ? fromModel : "mnist";
  try {
    return datasetName(name);
  } catch {
    throw new CliError(`the model says it was trained on "${name}", which this lenet-wasm does not know (${Object.keys(CLASS_NAMES).join(", ")}); pass --dataset`);
  }
}

/**
 * The data folder: --data, else where the dataset is installed or cached, downloaded into the cache
 * first when it is not there yet (from --mirror, $LENET_WASM_MIRROR or the public mirrors; into
 * --cache, $LENET_WASM_CACHE or the platform's cache folder), with a progress line unless --quiet.
 */
export async function dataFolder(flags: Flags, dataset: DatasetName): Promise<string> {
  const given = stringFlag(flags, "data");
  if (given !== undefined) return resolve(given);
  const mirror = stringFlag(flags, "mirror"), cache = stringFlag(flags, "cache");
  return datasetDir(dataset, {
    ...(mirror === undefined ? {} : { mirrors: [mirror] }),
    ...(cache === undefined ? {} : { cache: resolve(cache) }),
    onProgress: downloadProgress(process.stderr, flags.quiet !== true),
  });
}

/** The class names a data folder declares (an image folder's class folders, or classes.txt beside IDX files), or undefined. Reads no image. */
export function folderClassNames(folder: string): string[] | undefined {
  return isImageFolder(folder) ? imageFolderClasses(folder) : readClassesFile(folder);
}

/** A command's data: its folder, class names, and its two halves, read when asked for. */
export interface DataSource {
  dir: string;
  /** Label i is classNames[i]. */
  classNames: string[];
  /** The named dataset the IDX files hold; null for a folder of pictures. */
  dataset: DatasetName | null;
  /** What titles call it: the dataset's name, or the picture folder's. */
  name: string;
  train(): Promise<Dataset>;
  /** Checks that the test half can be read, without holding it (IDX), so that training does not start on data it cannot test. */
  checkTest(): Promise<void>;
  test(): Promise<Dataset>;
}

/**
 * The data in `folder` for a model of `classes` classes (default: as many as the data has) named
 * `modelNames` (when the model file says). An image folder is read whole, once, on first use, with
 * a progress bar; IDX files half by half. A model whose classes are not the data's is a CliError.
 */
export function openData(folder: string, dataset: DatasetName, flags: Flags, want: { classes?: number; modelNames?: readonly string[] } = {}): DataSource {
  const quiet = flags.quiet === true || flags.json === true;
  if (isImageFolder(folder)) {
    // A model's names label the folders by name (readImageFolder checks the folder against them).
    const classNames = want.modelNames ? [...want.modelNames] : imageFolderClasses(folder);
    if (want.classes !== undefined && classNames.length !== want.classes) {
      throw new CliError(`${folder} has ${classNames.length} classes (${classNames.join(", ")}), not ${want.classes}. Leave out --classes: an image folder's classes are its folders.`);
    }
    let read: Promise<NamedDataset> | undefined;
    const all = () => (read ??= readImageFolder(folder, { classNames, onProgress: countProgress(process.stderr, !quiet, `Reading pictures from ${folder}`) }).then((d) => {
      if (d.heldOut && !quiet) process.stderr.write(`No test/ folder in ${folder}: every fifth picture of each class (${d.test.count}) is held out as the test set.\n`);
      return d;
    }));
    return {
      dir: folder, classNames, dataset: null, name: basename(folder),
      train: async () => (await all()).train, checkTest: async () => void (await all()), test: async () => (await all()).test,
    };
  }
  const names = idxClassNames(folder, dataset, want.classes ?? want.modelNames?.length);
  if (want.modelNames && want.modelNames.join("\n") !== names.join("\n")) {
    const listed = readClassesFile(folder) !== undefined ? `${folder}/${CLASSES_FILE} lists` : `${dataset} has`;
    throw new CliError(`the model tells apart ${want.modelNames.join(", ")}; ${listed} ${names.join(", ")}. Pass --data with the model's data (its folder of pictures, or IDX files).`);
  }
  const classes = names.length;
  return {
    dir: folder, classNames: names, dataset, name: dataset,
    train: async () => (await readMnistPart("train", folder, dataset, classes)).data,
    checkTest: () => checkMnistPart("test", folder, dataset, classes),
    test: async () => (await readMnistPart("test", folder, dataset, classes)).data,
  };
}
