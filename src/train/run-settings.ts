// The settings that define a training run, as a checkpoint saves them, and the rule for resuming:
// a resumed run continues with its checkpoint's settings; a setting asked for again must agree,
// except the number of epochs, which may grow (train longer). The CLI and any other front end
// that saves checkpoints use this, so the rule is written once.
import { CLASSES } from "../model/geometry.js";
import type { ArchitectureName } from "../model/networks.js";
import { OptionError } from "../model/option-error.js";

/** A run's settings (snake_case: the keys a checkpoint's metadata holds). */
export interface RunSettings {
  epochs: number;
  batch_size: number;
  lr: number;
  seed: number;
  /** Training images held out for validation. */
  validation: number;
  dataset: string;
  /** The data folder, or null for the dataset's default location. */
  data: string | null;
  /** Where the model is saved. */
  out: string;
  fast_math: boolean;
  augment: boolean;
  lr_decay: number;
  arch: ArchitectureName;
  weight_decay: number;
  classes: number;
}

/** Each setting's name in the API's options (LeNet5Options, TrainOptions), as OptionError names it. */
export const SETTING_OPTION: Readonly<Record<keyof RunSettings, string>> = {
  epochs: "epochs", batch_size: "batchSize", lr: "lr", seed: "seed", validation: "validation", dataset: "dataset", data: "data", out: "out",
  fast_math: "fastMath", augment: "augment", lr_decay: "lrDecay", arch: "arch", weight_decay: "weightDecay", classes: "classes",
};

/** A checkpoint whose settings cannot be resumed (written by another version, or damaged). */
export class ResumeError extends Error {
  override readonly name = "ResumeError";
}

/**
 * The settings a resumed run continues with: the checkpoint's (`saved`; its architecture and classes
 * come from the checkpoint's own fields). Each setting in `given` (asked for explicitly) must equal
 * the saved one, except `epochs`, which may be larger.
 * @throws OptionError naming the first setting that disagrees; ResumeError when the checkpoint lacks a setting
 */
export function resumedSettings(
  saved: { settings: Record<string, unknown>; architecture: ArchitectureName; classes?: number },
  requested: RunSettings,
  given: ReadonlySet<keyof RunSettings>,
): RunSettings {
  // The architecture is in every checkpoint's metadata (the settings of older ones lack it, and weight_decay and classes).
  const old: Record<string, unknown> = { weight_decay: 0, ...saved.settings, arch: saved.architecture, classes: saved.classes ?? CLASSES };
  const settings = { ...requested };
  for (const key of Object.keys(SETTING_OPTION) as (keyof RunSettings)[]) {
    const value = old[key];
    const type = key === "data" ? "string" : typeof requested[key]; // data: a folder, or null for the default location
    if (value === undefined || (value === null ? key !== "data" : typeof value !== type)) {
      throw new ResumeError(`the checkpoint's settings lack a valid "${key}": was it written by another version? Start the run again without resuming`);
    }
    if (given.has(key) && !(key === "epochs" && requested.epochs > (value as number)) && requested[key] !== value) {
      throw new OptionError(SETTING_OPTION[key], `${String(requested[key])} differs from the resumed run's ${String(value)}; leave it out to continue with the run's settings`);
    }
    if (!(key === "epochs" && given.has(key) && requested.epochs > (value as number))) (settings as Record<string, unknown>)[key] = value;
  }
  return settings;
}
