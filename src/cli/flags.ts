// The command line's flags: their names, which command takes which, and their text turned into
// values. What a value may be is the library's to say: checkOption turns its OptionError into a
// usage error that names the flag.
import { parseArgs } from "node:util";
import { OptionError } from "../model/option-error.js";

/** A mistake in how the command was called: usage message, exit code 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** A failure at run time with a message that says what to do: exit code 1, no stack trace. */
export class CliError extends Error {
  override readonly name = "CliError";
}

export const OPTIONS = {
  epochs: { type: "string" },
  "batch-size": { type: "string" },
  lr: { type: "string" },
  seed: { type: "string" },
  threads: { type: "string" },
  validation: { type: "string" },
  data: { type: "string" },
  mirror: { type: "string" },
  cache: { type: "string" },
  out: { type: "string", short: "o" },
  model: { type: "string" },
  json: { type: "boolean" },
  "fast-math": { type: "boolean" },
  "checkpoint-dir": { type: "string" },
  "checkpoint-every": { type: "string" },
  resume: { type: "string" },
  report: { type: "string" },
  history: { type: "string" },
  top: { type: "string" },
  dataset: { type: "string" },
  augment: { type: "boolean" },
  "lr-decay": { type: "string" },
  "weight-decay": { type: "string" },
  recipe: { type: "string" },
  arch: { type: "string" },
  classes: { type: "string" },
  format: { type: "string" },
  idx: { type: "string" },
  int8: { type: "boolean" },
  index: { type: "string" },
  quiet: { type: "boolean" },
  verbose: { type: "boolean" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean" },
} as const;

export type Flag = keyof typeof OPTIONS;
export type Flags = Partial<Record<Flag, string | boolean>>;

/** The flags each command takes. */
export const ALLOWED: Record<string, Flag[]> = {
  train: ["epochs", "batch-size", "lr", "seed", "threads", "validation", "data", "mirror", "cache", "out", "fast-math", "checkpoint-dir", "checkpoint-every", "resume", "report", "history", "dataset", "augment", "lr-decay", "weight-decay", "recipe", "arch", "classes", "json", "quiet", "verbose", "help"],
  evaluate: ["model", "data", "mirror", "cache", "dataset", "fast-math", "int8", "json", "quiet", "verbose", "help"],
  report: ["model", "data", "mirror", "cache", "dataset", "out", "quiet", "verbose", "help"],
  predict: ["model", "top", "idx", "index", "data", "mirror", "cache", "dataset", "fast-math", "int8", "json", "verbose", "help"],
  export: ["format", "model", "out", "data", "mirror", "cache", "dataset", "quiet", "verbose", "help"],
  convert: ["dataset", "classes", "mirror", "cache", "json", "quiet", "verbose", "help"],
};

/** The command, its flags and its other arguments; a UsageError for an unknown or misplaced flag. */
export function parseCommandLine(argv: string[]): { command: string | undefined; flags: Flags; args: string[] } {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    const unknown = /Unknown option '([^']+)'/.exec((err as Error).message);
    throw new UsageError(unknown ? `unknown option ${unknown[1]}` : (err as Error).message);
  }
  const flags = parsed.values as Flags;
  const [command, ...args] = parsed.positionals;
  if (command !== undefined && command !== "help" && !flags.help && !flags.version) {
    if (!(command in ALLOWED)) throw new UsageError(`unknown command "${command}"`);
    if (args.length > 0 && command !== "predict" && command !== "export" && command !== "convert") throw new UsageError(`unexpected argument "${args[0]}"`);
    const wrong = Object.keys(flags).find((f) => !ALLOWED[command]!.includes(f as Flag));
    if (wrong) throw new UsageError(`--${wrong} is not an option of ${command}`);
  }
  return { command, flags, args };
}

/** A flag's text, if given; a UsageError when it is empty. */
export function stringFlag(flags: Flags, name: Flag): string | undefined {
  const raw = flags[name];
  if (raw === "") throw new UsageError(`--${name} needs a value`);
  return typeof raw === "string" ? raw : undefined;
}

/** A flag's number (decimal, optionally with an exponent), if given; the library checks its range. */
export function numberFlag(flags: Flags, name: Flag): number | undefined {
  const raw = stringFlag(flags, name);
  if (raw === undefined) return undefined;
  if (!/^\s*[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?\s*$/i.test(raw)) throw new UsageError(`--${name} must be a number, got "${raw}"`);
  return Number(raw);
}

/** The API's option names, and the flag that sets each. */
const FLAG_OF: Record<string, Flag> = {
  epochs: "epochs", batchSize: "batch-size", lr: "lr", seed: "seed", threads: "threads", validation: "validation", data: "data", out: "out",
  fastMath: "fast-math", augment: "augment", lrDecay: "lr-decay", weightDecay: "weight-decay", arch: "arch", classes: "classes",
  checkpointEvery: "checkpoint-every", recipe: "recipe", dataset: "dataset",
};

/** `check()`'s result; an OptionError it throws becomes a UsageError that names the option's flag. */
export function checkOption<T>(check: () => T): T {
  try {
    return check();
  } catch (err) {
    if (err instanceof OptionError && FLAG_OF[err.option] !== undefined) {
      throw new UsageError(`--${FLAG_OF[err.option]}${err.message.slice(err.option.length)}`);
    }
    throw err;
  }
}

/** A flag only the command line has (--top, --index): an integer in min..max, or `fallback`. */
export function intFlag(flags: Flags, name: Flag, fallback: number, min: number, max: number): number {
  const raw = stringFlag(flags, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!/^\s*-?\d+\s*$/.test(raw) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new UsageError(`--${name} must be an integer in ${min}..${max}, got "${raw}"`);
  }
  return value;
}
