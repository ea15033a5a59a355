// `lenet-wasm report`: one self-contained HTML page about a saved model (curves, mistakes, filters).
import { basename, resolve } from "node:path";
import { readMnist } from "../data/node-files.js";
import { writeFileAtomic } from "../data/atomic-file.js";
import { classNames, dataFolder, datasetFlag, environment, loadModelFlag, percent } from "./common.js";
import { stringFlag, type Flags } from "./flags.js";

export async function commandReport(flags: Flags): Promise<void> {
  const { model, info, path } = await loadModelFlag(flags);
  const dataset = datasetFlag(flags, info.training?.dataset);
  const data = await readMnist(await dataFolder(flags, dataset), dataset, model.classes);
  const out = resolve(stringFlag(flags, "out") ?? "report.html");
  const { renderReport, reportInput } = await import("../eval/report.js");
  const input = reportInput(model, data.test, {
    title: `${model.arch.title} on ${dataset}: ${basename(path)}`,
    classNames: classNames(dataset, model.classes),
    history: info.history ?? [],
    settings: { model: path, data: data.dir, ...(info.training ?? {}) },
    environment: environment(),
  });
  await writeFileAtomic(out, new TextEncoder().encode(renderReport(input)));
  if (flags.quiet !== true) process.stdout.write(`Report written to ${out} (test accuracy ${percent(input.evaluation.accuracy)})\n`);
}
