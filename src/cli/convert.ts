// `lenet-wasm convert`: a folder of your own pictures (train/<class>/*.png) to IDX files, and IDX
// files (a folder, or a dataset by name) to such a folder. Whole or not at all.
import { resolve } from "node:path";
import { writeIdxFolder, writeImageFolder } from "../data/image-folder.js";
import { dataFolder, datasetFlag, openData } from "./data.js";
import { numberFlag, UsageError, type Flags } from "./flags.js";
import { countProgress } from "./progress.js";

export async function commandConvert(flags: Flags, args: string[]): Promise<void> {
  if (args.length === 0 || args.length > 2) throw new UsageError("convert needs SOURCE DEST (an image folder or a folder of IDX files), or DEST with --dataset NAME");
  // --dataset: with DEST alone, the dataset to write; with IDX files, whose class names they carry (unless classes.txt says).
  const dataset = datasetFlag(flags);
  const source = args.length === 2 ? resolve(args[0]!) : await dataFolder(flags, dataset);
  const dest = resolve(args[args.length - 1]!);
  const classes = numberFlag(flags, "classes");
  const data = openData(source, dataset, flags, classes === undefined ? {} : { classes });
  const toIdx = data.dataset === null; // pictures become IDX files; IDX files become pictures
  const written = { train: await data.train(), test: await data.test(), classNames: data.classNames };
  if (toIdx) await writeIdxFolder(dest, written);
  else await writeImageFolder(dest, written, countProgress(process.stderr, flags.quiet !== true && flags.json !== true, `Writing pictures to ${dest}`));
  const { train, test, classNames } = written;
  if (flags.json === true) {
    process.stdout.write(JSON.stringify({ command: "convert", from: source, to: dest, format: toIdx ? "idx" : "images", train: train.count, test: test.count, classes: classNames }) + "\n");
  } else if (flags.quiet !== true) {
    const what = toIdx ? "the four IDX files and classes.txt" : "train/<class>/*.png, test/<class>/*.png and classes.txt";
    process.stdout.write(`Wrote ${what} to ${dest}: ${train.count} training and ${test.count} test images of ${classNames.length} classes (${classNames.join(", ")})\n`);
  }
}
