// `lenet-wasm convert`: a folder of your own pictures (train/<class>/*.png) to IDX files, and IDX
// files (a folder, or a dataset by name) to such a folder. Whole or not at all.
import { resolve } from "node:path";
import { isImageFolder, readImageFolder, writeIdxFolder, writeImageFolder } from "../data/image-folder.js";
import { readMnist } from "../data/node-files.js";
import { dataFolder, datasetFlag } from "./data.js";
import { numberFlag, UsageError, type Flags } from "./flags.js";
import { countProgress } from "./progress.js";

export async function commandConvert(flags: Flags, args: string[]): Promise<void> {
  if (args.length === 0 || args.length > 2) throw new UsageError("convert needs SOURCE DEST (an image folder or a folder of IDX files), or DEST with --dataset NAME");
  // --dataset: with DEST alone, the dataset to write; with IDX files, whose class names they carry (unless classes.txt says).
  const quiet = flags.quiet === true || flags.json === true;
  const dataset = datasetFlag(flags);
  const source = args.length === 2 ? resolve(args[0]!) : await dataFolder(flags, dataset);
  const dest = resolve(args[args.length - 1]!);
  const toIdx = isImageFolder(source);
  let counts: { train: number; test: number }, classNames: readonly string[];
  if (toIdx) {
    const data = await readImageFolder(source, { onProgress: countProgress(process.stderr, !quiet, `Reading pictures from ${source}`) });
    if (data.heldOut && !quiet) process.stderr.write(`No test/ folder in ${source}: every fifth picture of each class (${data.test.count}) is held out as the test set.\n`);
    await writeIdxFolder(dest, data);
    counts = { train: data.train.count, test: data.test.count };
    classNames = data.classNames;
  } else {
    const data = await readMnist(source, dataset, numberFlag(flags, "classes"));
    await writeImageFolder(dest, data, countProgress(process.stderr, !quiet, `Writing pictures to ${dest}`));
    counts = { train: data.train.count, test: data.test.count };
    classNames = data.classNames;
  }
  if (flags.json === true) {
    process.stdout.write(JSON.stringify({ command: "convert", from: source, to: dest, format: toIdx ? "idx" : "images", train: counts.train, test: counts.test, classes: classNames }) + "\n");
  } else if (flags.quiet !== true) {
    const what = toIdx ? "the four IDX files and classes.txt" : "train/<class>/*.png, test/<class>/*.png and classes.txt";
    process.stdout.write(`Wrote ${what} to ${dest}: ${counts.train} training and ${counts.test} test images of ${classNames.length} classes (${classNames.join(", ")})\n`);
  }
}
