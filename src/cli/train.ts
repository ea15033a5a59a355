// `lenet-wasm train`: the run's settings from the flags (or the checkpoint it resumes), checked by the
// library; then read the data, train with a progress bar, save the model, test it, report.
import { access, constants, mkdir, stat } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { dirname, join, resolve } from "node:path";
import { datasetName, splitValidation, type Dataset } from "../data/datasets.js";
import { evaluate } from "../eval/metrics.js";
import { removeOrphans, writeFileAtomic } from "../data/atomic-file.js";
import { encodeCheckpoint, encodeModel } from "../io/model-file.js";
import { CLASSES } from "../model/geometry.js";
import { DEFAULT_ADAM, LeNet5, maxBatchSize } from "../model/lenet.js";
import { architecture, type ArchitectureName } from "../model/networks.js";
import { DEFAULT_DISTORTION } from "../train/augment.js";
import { recipe } from "../train/recipes.js";
import { resumedSettings, type RunSettings } from "../train/run-settings.js";
import { checkTrainOptions, NumericalError, train, type TrainOptions, type TrainState } from "../train/train.js";
import { CHECKPOINT_FILE, environment, percent, readCheckpoint } from "./common.js";
import { dataFolder, datasetFlag, folderClassNames, openData } from "./data.js";
import { checkOption, CliError, numberFlag, stringFlag, UsageError, type Flag, type Flags } from "./flags.js";
import { Progress } from "./progress.js";

/** The flag that sets each run setting. */
const FLAG: Record<keyof RunSettings, Flag> = {
  epochs: "epochs", batch_size: "batch-size", lr: "lr", seed: "seed", validation: "validation", dataset: "dataset", data: "data", out: "out",
  fast_math: "fast-math", augment: "augment", lr_decay: "lr-decay", arch: "arch", weight_decay: "weight-decay", classes: "classes",
};

/** The settings the flags ask for (a recipe's, then the defaults, under them), and which were given. */
function requestedSettings(flags: Flags): { settings: RunSettings; given: Set<keyof RunSettings> } {
  const r = checkOption(() => recipe(stringFlag(flags, "recipe") ?? "article"));
  const data = stringFlag(flags, "data");
  const settings: RunSettings = {
    epochs: numberFlag(flags, "epochs") ?? r.epochs,
    batch_size: numberFlag(flags, "batch-size") ?? 32,
    lr: numberFlag(flags, "lr") ?? r.lr,
    seed: numberFlag(flags, "seed") ?? 1,
    validation: numberFlag(flags, "validation") ?? r.validation,
    dataset: datasetFlag(flags),
    data: data === undefined ? null : resolve(data),
    out: resolve(stringFlag(flags, "out") ?? "lenet5.safetensors"),
    fast_math: flags["fast-math"] === true,
    augment: flags.augment === true || r.distort !== null,
    lr_decay: numberFlag(flags, "lr-decay") ?? r.lrDecay,
    arch: (stringFlag(flags, "arch") ?? r.arch) as ArchitectureName,
    weight_decay: numberFlag(flags, "weight-decay") ?? r.weightDecay,
    classes: numberFlag(flags, "classes") ?? CLASSES,
  };
  const given = new Set((Object.keys(FLAG) as (keyof RunSettings)[]).filter((key) => flags[FLAG[key]] !== undefined));
  return { settings, given };
}

export async function commandTrain(flags: Flags): Promise<number> {
  const started = performance.now();
  const resumeDir = stringFlag(flags, "resume");
  if (resumeDir !== undefined && stringFlag(flags, "recipe") !== undefined) {
    throw new UsageError("--recipe with --resume: a resumed run keeps its own settings; leave out --recipe");
  }
  const resumed = resumeDir === undefined ? undefined : await readCheckpoint(resolve(resumeDir));
  const requested = requestedSettings(flags);
  const settings = resumed ? checkOption(() => resumedSettings(resumed, requested.settings, requested.given)) : requested.settings;
  const { epochs, batch_size: batchSize, lr, seed, out } = settings;
  // A folder that names its classes (an image folder, or classes.txt beside IDX files) sets how many there are.
  const declared = settings.data === null ? undefined : folderClassNames(settings.data);
  if (declared !== undefined && declared.length !== settings.classes) {
    if (resumed || requested.given.has("classes")) {
      throw new CliError(`${settings.data} has ${declared.length} classes (${declared.join(", ")}), but the ${resumed ? "checkpoint's model has" : "run asks for (--classes)"} ${settings.classes}.`);
    }
    settings.classes = declared.length;
  }
  // Every setting checked by the library before anything is read or written.
  const arch = checkOption(() => architecture(settings.arch, settings.classes));
  const dataset = checkOption(() => datasetName(settings.dataset));
  const options: TrainOptions = {
    epochs, batchSize, seed, threads: numberFlag(flags, "threads") ?? availableParallelism(),
    adam: { lr, weightDecay: settings.weight_decay }, lrDecay: settings.lr_decay,
    ...(settings.augment ? { distort: DEFAULT_DISTORTION } : {}),
  };
  const checkpointEvery = numberFlag(flags, "checkpoint-every") ?? 500;
  const { threads } = checkOption(() => checkTrainOptions({ ...options, checkpointEvery }, maxBatchSize(arch)));
  const checkpointDir = (() => {
    const dir = stringFlag(flags, "checkpoint-dir") ?? resumeDir;
    return dir === undefined ? undefined : resolve(dir);
  })();
  if (checkpointDir !== undefined) options.checkpointEvery = checkpointEvery;
  // Where Ctrl-C saves the run when no --checkpoint-dir was given.
  const interruptDir = checkpointDir ?? out.replace(/\.safetensors$/, "") + ".checkpoint";
  const json = flags.json === true, quiet = flags.quiet === true;

  // Fail before training, not after minutes of it, when the model, report or checkpoints cannot be saved.
  const outputs = [["--out", out], ["--report", stringFlag(flags, "report")], ["--history", stringFlag(flags, "history")]] as const;
  for (const [flag, file] of outputs) {
    if (file === undefined) continue;
    const path = resolve(file);
    const isFolder = await stat(path).then((st) => st.isDirectory(), () => false);
    await access(dirname(path), constants.W_OK).catch(() => {
      throw new CliError(`cannot write ${path}: folder ${dirname(path)} does not exist or is not writable. Choose another ${flag}.`);
    });
    if (isFolder) throw new CliError(`cannot write ${path}: it is a folder. Give ${flag} a file name.`);
  }
  if (checkpointDir !== undefined) {
    await mkdir(checkpointDir, { recursive: true }).then(() => access(checkpointDir, constants.W_OK)).catch(() => {
      throw new CliError(`cannot write checkpoints to ${checkpointDir}: not a writable folder. Choose another --checkpoint-dir.`);
    });
    await removeOrphans(join(checkpointDir, CHECKPOINT_FILE)); // what a killed run was writing
  }
  // --data (or the resumed run's), else the installed or cached dataset, downloaded first if need be.
  const data = openData(settings.data ?? (await dataFolder(flags, dataset)), dataset, flags, { classes: settings.classes });
  const trainData = await data.train(), dataDir = data.dir;
  // The test set is read after training, so that training does not hold it in memory (7.8 MB of
  // MNIST: what keeps the peak under 150 MB with 2 threads). Its files are checked now.
  await data.checkTest();
  const { train: trainSet, validation } = checkOption(() => splitValidation(trainData, settings.validation));
  const log = process.stderr;
  const model = await LeNet5.create({ arch: settings.arch, classes: settings.classes, seed, batchSize, fastMath: settings.fast_math });
  if (settings.fast_math && !model.fastMath) log.write("lenet-wasm: --fast-math: this engine has no relaxed SIMD (Node >= 22 has it); using the default deterministic build\n");
  if (resumed) {
    model.setWeights(resumed.weights);
    model.setAdamState(resumed.adam);
  }
  if (!quiet) {
    log.write(`${model.arch.title}, ${model.arch.trainableCount.toLocaleString("en-US")} parameters; ${trainSet.count} training, ${validation.count} validation images from ${dataDir}; ${threads} thread${threads > 1 ? "s" : ""}${model.fastMath ? ", relaxed SIMD (--fast-math)" : ""}\n`);
    if (resumed) log.write(`Resuming from ${resumeDir} at epoch ${resumed.state.epoch}, batch ${resumed.state.batch}\n`);
  }

  // Ctrl-C / SIGTERM: finish the batch, save a checkpoint, say how to resume. Twice: quit at once.
  const controller = new AbortController();
  let signalled: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) process.exit(signal === "SIGINT" ? 130 : 143);
    signalled = signal;
    log.write(`\n${signal}: finishing this batch and saving a checkpoint to ${interruptDir} (again to quit at once)\n`);
    controller.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const saveCheckpoint = async (state: TrainState) => {
    if (checkpointDir === undefined && signalled === undefined) return;
    await mkdir(interruptDir, { recursive: true });
    const checkpoint = { architecture: model.arch.name, classes: model.classes, weights: model.getWeights(), adam: model.getAdamState(), state, settings: { ...settings } };
    await writeFileAtomic(join(interruptDir, CHECKPOINT_FILE), encodeCheckpoint(checkpoint));
  };

  const progress = new Progress(log, !quiet);
  let shownEpoch = 0;
  let result;
  try {
    result = await train(model, trainSet, {
      ...options,
      validation,
      signal: controller.signal,
      onCheckpoint: saveCheckpoint,
      ...(resumed ? { resume: resumed.state } : {}),
      onBatchEnd: (p) => {
        if (p.epoch !== shownEpoch) progress.epochStart((shownEpoch = p.epoch), p.epochs);
        progress.batch(p);
      },
      onEpochEnd: (m) => progress.epochEnd(m, Math.ceil(trainSet.count / batchSize)),
    });
  } catch (err) {
    if (err instanceof NumericalError && checkpointDir !== undefined) {
      throw new CliError(`${err.message} The last good checkpoint is in ${checkpointDir}.`);
    }
    throw err;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
  if (result.interrupted) {
    const where = `epoch ${result.state.epoch}, batch ${result.state.batch} of ${Math.ceil(trainSet.count / batchSize)}`;
    log.write(`Stopped at ${where}; checkpoint saved in ${interruptDir}.\nResume with: npx lenet-wasm train --resume ${interruptDir}\n`);
    return signalled === "SIGTERM" ? 143 : 130;
  }
  // A test set that cannot be read now costs no training: the model is saved without test metrics first.
  let testSet: Dataset | undefined, testError: unknown;
  try {
    testSet = await data.test();
  } catch (err) {
    testError = err;
  }
  const test = testSet === undefined ? undefined : evaluate(model, testSet);
  const last = result.history[result.history.length - 1]!;
  const metrics = {
    test_accuracy: test?.accuracy ?? null,
    test_loss: test?.loss ?? null,
    validation_accuracy: last.valAccuracy ?? null,
    validation_loss: last.valLoss ?? null,
    train_accuracy: last.accuracy,
    train_loss: last.loss,
  };
  const training = { arch: model.arch.name, classes: model.classes, dataset: data.dataset, epochs, batch_size: batchSize, threads, fast_math: model.fastMath, lr, lr_decay: settings.lr_decay, weight_decay: settings.weight_decay, augment: settings.augment, beta1: DEFAULT_ADAM.beta1, beta2: DEFAULT_ADAM.beta2, eps: DEFAULT_ADAM.eps, seed, validation: settings.validation, train_images: trainSet.count };
  await writeFileAtomic(out, encodeModel(model.getWeights(), { architecture: model.arch.name, classes: model.classes, classNames: data.classNames, training, metrics, history: result.history }));
  const historyFile = stringFlag(flags, "history"), reportFile = stringFlag(flags, "report");
  if (historyFile !== undefined) await writeFileAtomic(resolve(historyFile), new TextEncoder().encode(JSON.stringify(result.history, null, 2) + "\n"));
  if (test === undefined || testSet === undefined) {
    log.write(`Model saved to ${out}${historyFile === undefined ? "" : ` and history to ${historyFile}`}, without test metrics: the test set could not be read.\n`);
    throw testError;
  }
  if (reportFile !== undefined) {
    const { renderReport, reportInput } = await import("../eval/report.js"); // loaded only when used
    const input = reportInput(model, testSet, {
      title: `${model.arch.title} on ${data.name}`, classNames: data.classNames,
      history: result.history, settings: { ...training, data: dataDir, model: out }, environment: environment(),
    });
    await writeFileAtomic(resolve(reportFile), new TextEncoder().encode(renderReport(input)));
  }
  const seconds = (performance.now() - started) / 1000;
  if (!json || !quiet) {
    const lines = [`Test accuracy: ${percent(test.accuracy)} (loss ${test.loss.toFixed(4)}) on ${test.count} images`,
      `Trained ${epochs} epoch${epochs > 1 ? "s" : ""} in ${result.state.trainSeconds.toFixed(1)} s, ${Math.round(result.trainImagesPerSecond).toLocaleString("en-US")} images/s${fewerThreads(result.threadBatches)}`,
      `Model saved to ${out}`];
    (json ? log : process.stdout).write(lines.join("\n") + "\n");
  }
  if (json) {
    process.stdout.write(JSON.stringify({
      command: "train", ...metrics, epochs, seconds, train_seconds: result.state.trainSeconds, run_seconds: result.seconds,
      train_images_per_second: result.trainImagesPerSecond, thread_batches: result.threadBatches, model: out, settings: training,
      resumed_from: resumeDir === undefined ? null : resolve(resumeDir),
      history: result.history, environment: environment(),
    }) + "\n");
  }
  return 0;
}

/** ", on fewer threads for N% of batches (...)" when training dropped threads on a busy machine; else "". */
function fewerThreads(threadBatches: number[]): string {
  const total = threadBatches.reduce((a, b) => a + b, 0), all = threadBatches[threadBatches.length - 1]!;
  if (total === 0 || all === total) return "";
  const share = Math.round((100 * (total - all)) / total);
  return `; fewer than ${threadBatches.length} threads for ${share}% of batches (faster while other work kept a core busy)`;
}
