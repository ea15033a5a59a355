#!/usr/bin/env node
// `lenet-wasm` command line (Node only): parses the command, runs it, turns errors into messages.
// Exit codes: 0 success, 1 runtime failure (bad data, unreadable files), 2 usage error.
// One file per command; the library checks every value and holds every policy.
import { DatasetError } from "../data/datasets.js";
import { DownloadError } from "../data/download.js";
import { IdxError } from "../data/idx.js";
import { ImageError } from "../data/png.js";
import { SafetensorsError } from "../io/safetensors.js";
import { ResumeError } from "../train/run-settings.js";
import { NumericalError } from "../train/train.js";
import { WasmSupportError } from "../wasm/kernels.js";
import { isFileError } from "./common.js";
import { commandConvert } from "./convert.js";
import { commandEvaluate } from "./evaluate.js";
import { commandExport } from "./export.js";
import { CliError, parseCommandLine, UsageError, type Flags } from "./flags.js";
import { commandPredict } from "./predict.js";
import { commandReport } from "./report.js";
import { commandTrain } from "./train.js";
import { USAGE, VERSION } from "./usage.js";

/** Runs the command line; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  let flags: Flags = {};
  try {
    const parsed = parseCommandLine(argv);
    flags = parsed.flags;
    const { command, args } = parsed;
    if (flags.version) {
      process.stdout.write(`${VERSION}\n`);
      return 0;
    }
    if (flags.help || command === undefined || command === "help") {
      process.stdout.write(USAGE);
      return command === undefined && !flags.help ? 2 : 0;
    }
    if (command === "train") return await commandTrain(flags);
    if (command === "predict") await commandPredict(flags, args);
    else if (command === "export") await commandExport(flags, args);
    else if (command === "report") await commandReport(flags);
    else if (command === "convert") await commandConvert(flags, args);
    else await commandEvaluate(flags);
    return 0;
  } catch (err) {
    const e = err as Error;
    if (e instanceof UsageError) {
      process.stderr.write(`lenet-wasm: ${e.message}\nRun "lenet-wasm --help" for usage.\n`);
      return 2;
    }
    const known = e instanceof IdxError || e instanceof DatasetError || e instanceof SafetensorsError || e instanceof WasmSupportError ||
      e instanceof RangeError || e instanceof CliError || e instanceof NumericalError || e instanceof ImageError || e instanceof ResumeError || e instanceof DownloadError || isFileError(e);
    process.stderr.write(`lenet-wasm: ${known ? e.message : `unexpected error: ${e.message}`}\n`);
    if (flags.verbose || !known) process.stderr.write(`${e.stack}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
