// Options, recipes and resumed runs: the library checks every value once (the CLI asks it), names
// the option that is wrong, and decides what a resumed run continues with.
import { describe, expect, it } from "vitest";
import { subset } from "../../src/data/datasets.js";
import { LeNet5 } from "../../src/model/lenet.js";
import { architecture } from "../../src/model/networks.js";
import { OptionError } from "../../src/model/option-error.js";
import { DEFAULT_DISTORTION } from "../../src/train/augment.js";
import { RECIPES, recipe } from "../../src/train/recipes.js";
import { resumedSettings, ResumeError, type RunSettings } from "../../src/train/run-settings.js";
import { checkTrainOptions, train } from "../../src/train/train.js";
import { mnist } from "../helpers.js";

/** The OptionError `fn` throws. */
function optionError(fn: () => unknown): OptionError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(OptionError);
    return err as OptionError;
  }
  throw new Error("did not throw");
}

describe("checkTrainOptions", () => {
  it("fills in the defaults: 5 epochs, batch 32, Adam 1e-3, no decay, no distortion, 1 thread", () => {
    expect(checkTrainOptions({}, 32)).toEqual({
      epochs: 5, batchSize: 32, threads: 1, seed: 1, adam: { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-7 }, lrDecay: 1, distort: undefined, checkpointEvery: 0, yieldEvery: 32,
    });
  });

  it("takes a recipe's settings as defaults; options given override them", () => {
    const r = RECIPES.paper;
    const c = checkTrainOptions({ recipe: "paper" }, 32);
    expect(c).toMatchObject({ epochs: r.epochs, lrDecay: r.lrDecay, adam: { lr: r.lr, weightDecay: r.weightDecay }, distort: undefined });
    expect(checkTrainOptions({ recipe: "augmented" }, 32).distort).toEqual(DEFAULT_DISTORTION);
    expect(checkTrainOptions({ recipe: "paper", epochs: 2, adam: { lr: 5e-4 } }, 32)).toMatchObject({ epochs: 2, adam: { lr: 5e-4, weightDecay: r.weightDecay } });
  });

  it("names the option that is out of range", () => {
    expect(optionError(() => checkTrainOptions({ epochs: 0 }, 32)).option).toBe("epochs");
    expect(optionError(() => checkTrainOptions({ batchSize: 33 }, 32)).message).toBe("batchSize must be an integer in 1..32, got 33");
    expect(optionError(() => checkTrainOptions({ adam: { lr: 0 } }, 32)).option).toBe("lr");
    expect(optionError(() => checkTrainOptions({ lrDecay: 1.5 }, 32)).option).toBe("lrDecay");
    expect(optionError(() => checkTrainOptions({ seed: -1 }, 32)).option).toBe("seed");
    expect(optionError(() => checkTrainOptions({ adam: { weightDecay: -1 } }, 32)).option).toBe("weightDecay");
    expect(optionError(() => checkTrainOptions({ recipe: "magic" as "paper" }, 32)).message).toMatch(/^recipe must be one of article, augmented, paper, paper-distorted/);
    expect(optionError(() => architecture("lenet7" as "lenet5")).option).toBe("arch");
    expect(optionError(() => architecture("lenet5-1998", 12)).option).toBe("classes");
  });

  it("caps threads at the shards of a batch (8 images each): more would only wait", () => {
    expect(checkTrainOptions({ threads: 16, batchSize: 32 }, 32).threads).toBe(4);
    expect(checkTrainOptions({ threads: 2, batchSize: 8 }, 32).threads).toBe(1);
  });

  it("recipe(): every recipe names its network; an unknown name lists them", () => {
    for (const r of Object.values(RECIPES)) expect(() => architecture(r.arch)).not.toThrow();
    expect(() => recipe("fast")).toThrow(/recipe must be one of article, augmented, paper, paper-distorted, got "fast"/);
  });

  it("train() refuses a recipe made for another network", async () => {
    const model = await LeNet5.create();
    await expect(train(model, subset(mnist().train, 0, 8), { recipe: "paper" })).rejects.toThrow(/"paper" is for the lenet5-1998 network; this model runs lenet5/);
  });

  it("threads > 1 without SharedArrayBuffer (a page that is not cross-origin isolated): 1 thread, a warning, the same weights", async () => {
    const data = subset(mnist().train, 0, 64);
    const a = await LeNet5.create(), b = await LeNet5.create();
    const one = await train(a, data, { epochs: 1, threads: 1 });
    const shared = globalThis.SharedArrayBuffer;
    const warnings: string[] = [];
    let two;
    try {
      delete (globalThis as { SharedArrayBuffer?: unknown }).SharedArrayBuffer;
      two = await train(b, data, { epochs: 1, threads: 2, onWarning: (m) => warnings.push(m) });
    } finally {
      globalThis.SharedArrayBuffer = shared;
    }
    expect([one.threads, two.threads]).toEqual([1, 1]);
    expect(warnings).toEqual([expect.stringMatching(/training on 1 thread, not 2: this engine has no SharedArrayBuffer .*cross-origin isolated.* The weights are the same/)]);
    expect(b.getWeights()).toEqual(a.getWeights());
  });

  it("train({ recipe }) trains as the recipe's options do, bit for bit", async () => {
    const data = subset(mnist().train, 0, 64);
    const a = await LeNet5.create({ arch: "lenet5-1998" }), b = await LeNet5.create({ arch: "lenet5-1998" });
    await train(a, data, { recipe: "paper", epochs: 2 });
    const r = RECIPES.paper;
    await train(b, data, { epochs: 2, lrDecay: r.lrDecay, adam: { lr: r.lr, weightDecay: r.weightDecay } });
    expect(a.getWeights()).toEqual(b.getWeights());
  });
});

describe("resumedSettings", () => {
  const saved: RunSettings = {
    epochs: 5, batch_size: 32, lr: 0.001, seed: 3, validation: 5000, dataset: "mnist", data: null, out: "/tmp/m.safetensors",
    fast_math: false, augment: false, lr_decay: 1, arch: "lenet5", weight_decay: 0, classes: 10,
  };
  const checkpoint = { settings: { ...saved } as Record<string, unknown>, architecture: "lenet5" as const, classes: 10 };
  const asked: RunSettings = { ...saved, epochs: 1, batch_size: 64, seed: 1 };

  it("continues with the checkpoint's settings where none is given", () => {
    expect(resumedSettings(checkpoint, asked, new Set())).toEqual(saved);
  });

  it("a setting given again must agree, and may only add epochs", () => {
    expect(resumedSettings(checkpoint, { ...saved, epochs: 8 }, new Set(["epochs"])).epochs).toBe(8);
    expect(optionError(() => resumedSettings(checkpoint, { ...saved, epochs: 3 }, new Set(["epochs"]))).message).toMatch(/^epochs 3 differs from the resumed run's 5/);
    expect(resumedSettings(checkpoint, { ...saved, seed: 3 }, new Set(["seed"]))).toEqual(saved);
    const e = optionError(() => resumedSettings(checkpoint, asked, new Set(["batch_size"])));
    expect([e.option, e.message]).toEqual(["batchSize", "batchSize 64 differs from the resumed run's 32; leave it out to continue with the run's settings"]);
  });

  it("older checkpoints: no weight_decay, arch or classes in the settings (taken from the checkpoint); a missing setting is a ResumeError", () => {
    const without = (...keys: string[]) => Object.fromEntries(Object.entries(saved).filter(([k]) => !keys.includes(k)));
    expect(resumedSettings({ settings: without("weight_decay", "arch", "classes"), architecture: "lenet5" }, asked, new Set())).toEqual(saved);
    const broken = without("lr");
    expect(() => resumedSettings({ settings: broken, architecture: "lenet5" }, asked, new Set())).toThrow(ResumeError);
    expect(() => resumedSettings({ settings: { ...saved, seed: "3" }, architecture: "lenet5" }, asked, new Set())).toThrow(/lack a valid "seed"/);
  });
});
