// `lenet-wasm report`: one self-contained HTML page about a saved model (curves, mistakes, filters).
import { basename, resolve } from "node:path";
import { writeFileAtomic } from "../data/atomic-file.js";
import { environment, loadModelFlag, modelData, percent } from "./common.js";
import { stringFlag, type Flags } from "./flags.js";

export async function commandReport(flags: Flags): Promise<void> {
  const { model, info, path } = await loadModelFlag(flags);
  const data = await modelData(flags, info);
  const testSet = await data.test();
  const out = resolve(stringFlag(flags, "out") ?? "report.html");
  const { renderReport, reportInput } = await import("../eval/report.js");
  const input = reportInput(model, testSet, {
    title: `${model.arch.title} on ${data.name}: ${basename(path)}`,
    classNames: data.classNames,
    history: info.history ?? [],
    settings: { model: path, data: data.dir, ...(info.training ?? {}) },
    environment: environment(),
  });
  await writeFileAtomic(out, new TextEncoder().encode(renderReport(input)));
  if (flags.quiet !== true) process.stdout.write(`Report written to ${out} (test accuracy ${percent(input.evaluation.accuracy)})\n`);
}
