// Named training recipes: a network and the settings that train it well, with what they gave
// (docs/recipes.md has the measurements and their commands). `train(model, data, { recipe })` and
// `lenet-wasm train --recipe NAME` take them; options given explicitly override a recipe's.
import type { ArchitectureName } from "../model/networks.js";
import { OptionError } from "../model/option-error.js";
import { DEFAULT_DISTORTION, type Distortion } from "./augment.js";

export interface Recipe {
  /** One line: what it is and what it gave. */
  readonly description: string;
  /** The network it is for. */
  readonly arch: ArchitectureName;
  readonly epochs: number;
  readonly lr: number;
  /** The learning rate is multiplied by this after every epoch. */
  readonly lrDecay: number;
  /** Decoupled weight decay (AdamW); 0: plain Adam. */
  readonly weightDecay: number;
  /** Training-time distortions, or none. */
  readonly distort: Readonly<Distortion> | null;
  /** Training images to hold out for validation (the last ones; the CLI's default --validation). */
  readonly validation: number;
}

export type RecipeName = "article" | "augmented" | "paper" | "paper-distorted";

export const RECIPES: Readonly<Record<RecipeName, Recipe>> = {
  article: {
    description: "the reference article's Keras recipe: Adam 1e-3, 5 epochs (98.70% with seed 1)",
    arch: "lenet5", epochs: 5, lr: 1e-3, lrDecay: 1, weightDecay: 0, distort: null, validation: 5000,
  },
  augmented: {
    // All 60,000 training images, as the article's Keras run: none held out for validation.
    description: "the article's network with random distortions and a halving learning rate (99.09% in 5 epochs)",
    arch: "lenet5", epochs: 5, lr: 2e-3, lrDecay: 0.5, weightDecay: 0, distort: DEFAULT_DISTORTION, validation: 0,
  },
  paper: {
    description: "the 1998 network as the paper trained it, 20 epochs without distortions (0.91% test error)",
    arch: "lenet5-1998", epochs: 20, lr: 1e-3, lrDecay: 0.85, weightDecay: 0.1, distort: null, validation: 5000,
  },
  "paper-distorted": {
    // Distorted digits take longer to fit: 30 epochs.
    description: "the 1998 network with distortions, 30 epochs (0.71% test error)",
    arch: "lenet5-1998", epochs: 30, lr: 1e-3, lrDecay: 0.9, weightDecay: 0, distort: DEFAULT_DISTORTION, validation: 5000,
  },
};

export const RECIPE_NAMES = Object.keys(RECIPES) as RecipeName[];

/**
 * The recipe called `name`.
 * @throws OptionError naming the recipes there are
 */
export function recipe(name: string): Recipe {
  if (!Object.hasOwn(RECIPES, name)) throw new OptionError("recipe", `must be one of ${RECIPE_NAMES.join(", ")}, got "${name}"`);
  return RECIPES[name as RecipeName];
}
