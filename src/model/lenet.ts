// The model: a network of networks.ts (the article's LeNet-5 by default, or the 1998 paper's) over
// regions planned once in WASM memory. Parameters use PyTorch's state_dict names and layouts. This
// file owns the memory, the batch input, the loss, Adam and the exchange of weights and gradients;
// the network's passes are bound to the memory once, when the model is made.
import { allocateRegions, alignedLength, type Region } from "../wasm/arena.js";
import { loadKernels, relaxedSimd, relaxedWasmUrl, WasmSupportError, type Kernels, type WasmSource } from "../wasm/kernels.js";
import {
  argmax, checkBatchSize, imageCount, imageNumber, imageStart, labelOf, predictAll, slotInterior, SLOT, stageImages, type Batch, type Classifier, type Images,
} from "./batches.js";
import { CLASSES, IMAGE_SIDE, INPUT_SIDE, PIXELS, sizeOf } from "./geometry.js";
import {
  architecture, denseWeightGradient, LENET5, placeDenseGradient, type Architecture, type ArchitectureName, type LayerSpec, type Passes, type ParameterSpec,
  type PlacedDenseGradient, type Placement,
} from "./networks.js";
import { OptionError } from "./option-error.js";
import { Rng } from "./rng.js";

/** The default (article) network's parameter tensors, in PyTorch `state_dict` order, names and shapes. */
export const PARAMETERS = LENET5.parameters;

/** A parameter tensor's name ("c1.weight", ...; see the architecture's `parameters`). */
export type ParameterName = string;
/** One Float32Array per parameter tensor, row-major in the shapes of the architecture's parameters. */
export type Weights = Record<string, Float32Array>;

/** Element offset of each tensor inside a parameter block (each 16-byte aligned), and the block size. */
export function parameterLayout(parameters: readonly ParameterSpec[]): { at: Record<string, number>; total: number } {
  const at: Record<string, number> = {};
  let n = 0;
  for (const p of parameters) {
    at[p.name] = n;
    n += alignedLength(sizeOf(p.shape));
  }
  return { at, total: n };
}

/** Floats in the default network's parameter block: every tensor padded to a multiple of 4. */
export const PARAMETER_BLOCK = parameterLayout(PARAMETERS).total;

/**
 * Images per gradient shard. A batch's gradient is the sum of its shards' gradients in shard
 * order, whether one thread computes them all or several share them: same bits for any thread count.
 */
export const SHARD_SIZE = 8;

/**
 * Where each piece of a shard's gradient lies in the form one thread hands it to another
 * (LeNet5.exportShardGradient), in floats: the gradients of every tensor but the dense layers'
 * (`ranges`: runs of consecutive tensors, `at` in the parameter block, `pos` in the handover), then
 * each dense layer's dout and inp for SHARD_SIZE images, from which the receiver makes that layer's
 * weight gradient: 36 KB for the article's network instead of its 247 KB gradient block.
 */
export interface ShardGradientLayout {
  readonly ranges: readonly { readonly at: number; readonly pos: number; readonly length: number }[];
  readonly dense: readonly { readonly dout: number; readonly inp: number }[];
  readonly length: number;
}

export function shardGradientLayout(arch: Architecture): ShardGradientLayout {
  const { at } = parameterLayout(arch.parameters);
  const denseTensors = new Set(arch.dense.flatMap((d) => [d.weight, d.bias]));
  const ranges: { at: number; pos: number; length: number }[] = [];
  let pos = 0;
  for (const p of arch.parameters) {
    if (denseTensors.has(p.name)) continue;
    const length = alignedLength(sizeOf(p.shape)), last = ranges[ranges.length - 1];
    if (last && last.at + last.length === at[p.name]) last.length += length; // follows the previous range
    else ranges.push({ at: at[p.name]!, pos, length });
    pos += length;
  }
  const dense = arch.dense.map((d) => {
    const dout = pos, inp = dout + alignedLength(SHARD_SIZE * d.N);
    pos = inp + alignedLength(SHARD_SIZE * d.K);
    return { dout, inp };
  });
  return { ranges, dense, length: pos };
}

/** Number of trainable parameters of the default network (61,706). */
export const PARAMETER_COUNT = LENET5.trainableCount;

/** Adam settings; the defaults are Keras's and the article's. */
export interface AdamConfig {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  /**
   * Decoupled weight decay (AdamW, as PyTorch's): every step first multiplies each parameter by
   * 1 - lr * weightDecay. Default 0 (plain Adam).
   */
  weightDecay?: number;
}
export const DEFAULT_ADAM: Readonly<AdamConfig> = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-7 };

export interface LeNet5Options {
  /** Which network: the article's "lenet5" (default) or the paper's "lenet5-1998" (or "lenet5-1998-softmax"). */
  arch?: ArchitectureName;
  /** Classes it tells apart: the output layer's size (default 10; "lenet5-1998" has 10 only). */
  classes?: number;
  /** Seed of the initial weights (Glorot-uniform for "lenet5", the paper's rule for the 1998 networks). Default 1. */
  seed?: number;
  /** Largest batch one call processes (memory is planned for it). Default 32. */
  batchSize?: number;
  /** Where to load the .wasm from, when the default location does not work (bundlers, CDNs). */
  wasm?: WasmSource;
  /**
   * Use the relaxed-SIMD build (fused multiply-add) when the engine supports it. Faster where FMA
   * exists, but results then depend on the hardware. Off by default: the default build gives the
   * same bits everywhere. `model.fastMath` says whether it is in use.
   */
  fastMath?: boolean;
  /**
   * Called with a message when the model runs otherwise than asked, and why (fastMath's .wasm file
   * could not be loaded: the default kernels run instead). Default: console.warn, once per page.
   */
  onWarning?: (message: string) => void;
}

/** Whether the missing relaxed-SIMD file was reported already (once is enough). */
let warnedMissingRelaxed = false;

/** Largest batch whose activations fit in 4 GiB of WebAssembly memory, with room to spare. */
export const maxBatchSize = (arch: Architecture): number =>
  Math.floor((2 ** 32 - 64 * 2 ** 20) / (4 * Object.values(arch.activations).reduce((a, b) => a + b, 0)));

/** One layer's output for one image (LeNet5.activations): its name and shape, and the values. */
export interface LayerActivation extends LayerSpec {
  readonly values: Float32Array;
}

export class LeNet5 implements Classifier {
  /** Largest batch per call. */
  readonly capacity: number;
  /** Adam steps taken so far (t in the bias corrections). */
  adamSteps = 0;
  /** The network this model runs. */
  readonly arch: Architecture;
  /** Classes it tells apart (arch.classes). */
  readonly classes: number;
  /** Floats in the parameter block (and the gradient block): every tensor padded to a multiple of 4. */
  readonly parameterBlockLength: number;
  /**
   * Where the pieces of a shard's gradient lie as threads hand it over (exportShardGradient).
   * @internal
   */
  readonly shardGradient: ShardGradientLayout;

  private readonly kernels: Kernels;
  private readonly regions: Record<string, Region>;
  private readonly f32: Float32Array;
  private readonly i32: Int32Array;
  private readonly u8: Uint8Array;
  private readonly layout: { at: Record<string, number>; total: number };
  /** Whether the module has the training kernels (not the inference bundle's forward-only module). */
  private readonly trains: boolean;
  /** Views of the parameter and gradient blocks, made once (memory never grows after the constructor). */
  private readonly blocks: { readonly params: Float32Array; readonly grads: Float32Array };
  /** The network's forward and backward passes, bound to this model's memory. */
  private readonly passes: Passes;
  /** The network's dense weight gradients, placed in this model's memory (addShardGradient makes them). */
  private readonly dense: readonly PlacedDenseGradient[];
  /** What exportShardGradient copies, as views made once, and where each goes in a shard's gradient. */
  private readonly shardPieces: readonly { readonly from: Float32Array; readonly pos: number }[];
  /** Byte offsets used on every batch, resolved once. */
  private readonly at: {
    readonly params: number; readonly grads: number; readonly shardIn: number; readonly adamM: number; readonly adamV: number;
    readonly input: number; readonly pixels: number; readonly byteTable: number; readonly labels: number;
    readonly logits: number; readonly probs: number; readonly dlogits: number; readonly classProbs: number;
  };

  /** Creates a model with fresh weights (Glorot-uniform for "lenet5", the paper's rule for "lenet5-1998") and zero biases. */
  static async create(options: LeNet5Options = {}): Promise<LeNet5> {
    const arch = architecture(options.arch ?? "lenet5", options.classes ?? CLASSES);
    const relaxed = options.fastMath === true && options.wasm === undefined ? await relaxedSimd() : undefined;
    const fastMath = relaxed?.ok === true;
    // An engine without relaxed SIMD is model.fastMath false; a file the page cannot load is a mistake to say, once.
    if (relaxed?.ok === false && relaxed.missing && !warnedMissingRelaxed) {
      warnedMissingRelaxed = true;
      (options.onWarning ?? console.warn)(`lenet-wasm: fastMath: ${relaxed.message}; using the default kernels (the same results on every machine). ` +
        `Serve the package's build/browser/lenet.relaxed.wasm at ${relaxedWasmUrl.href}: some bundlers (esbuild) do not copy it.`);
    }
    const model = new LeNet5(arch, await loadKernels(options.wasm ?? (fastMath ? relaxedWasmUrl : undefined)), options.batchSize ?? 32, fastMath);
    model.initialize(options.seed ?? 1);
    return model;
  }

  private constructor(arch: Architecture, kernels: Kernels, capacity: number, readonly fastMath: boolean) {
    // images_to_input and setBatch lay images out in 32x32 slots: every network's input is one.
    if (arch.activations.input !== SLOT) throw new Error(`internal: ${arch.name}'s input is not a ${INPUT_SIDE}x${INPUT_SIDE} slot`);
    const limit = maxBatchSize(arch);
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > limit) {
      throw new OptionError("batchSize", `must be an integer in 1..${limit} (WebAssembly memory holds at most 4 GiB), got ${capacity}`);
    }
    this.arch = arch;
    this.classes = arch.classes;
    this.kernels = kernels;
    this.capacity = capacity;
    this.layout = parameterLayout(arch.parameters);
    this.parameterBlockLength = this.layout.total;
    this.shardGradient = shardGradientLayout(arch);
    const B = capacity, total = this.layout.total;
    const perImage = Object.fromEntries(Object.entries(arch.activations).map(([name, n]) => [name, B * n]));
    const constants = Object.fromEntries(Object.entries(arch.constants).map(([name, c]) => [name, c.length]));
    const regions: Record<string, Region> = allocateRegions(kernels.memory, kernels.heap_base(), {
      params: total,
      grads: total,
      shardIn: this.shardGradient.length, // a shard's gradient handed in by another thread (addShardGradient)
      adamM: total,
      adamV: total,
      labels: B,
      pixels: Math.ceil((B * PIXELS) / 4), // a batch's uint8 images, staged for images_to_input
      byteTable: 256, // float32(low + (high - low) v / 255) per byte, images_to_input reads it
      classProbs: B * arch.classes, // probabilities of the classes (the 1998 network's logits have an 11th)
      ...perImage,
      ...arch.scratch,
      ...constants,
    });
    this.regions = regions;
    const offset = (name: string): number => {
      const r = regions[name];
      if (r === undefined) throw new Error(`internal: no region ${name} in ${arch.name}`);
      return r.offset;
    };
    this.at = {
      params: offset("params"), grads: offset("grads"), shardIn: offset("shardIn"), adamM: offset("adamM"), adamV: offset("adamV"),
      input: offset("input"), pixels: offset("pixels"), byteTable: offset("byteTable"), labels: offset("labels"),
      logits: offset("logits"), probs: offset("probs"), dlogits: offset("dlogits"), classProbs: offset("classProbs"),
    };
    this.f32 = new Float32Array(kernels.memory.buffer);
    this.i32 = new Int32Array(kernels.memory.buffer);
    this.u8 = new Uint8Array(kernels.memory.buffer);
    this.trains = typeof kernels.adam_step === "function";
    const block = (at: number) => this.f32.subarray(at / 4, at / 4 + total);
    this.blocks = { params: block(this.at.params), grads: block(this.at.grads) };
    for (const [name, c] of Object.entries(arch.constants)) this.f32.set(c, offset(name) / 4);
    const { low, high } = arch.input;
    // float32(low + (high - low) * v / 255) for every byte v: images_to_input's table.
    this.f32.set(Float32Array.from({ length: 256 }, (_, v) => low + ((high - low) * v) / 255), this.at.byteTable / 4);
    // The border of every input slot is the background value; setBatch only writes the 28x28 interior.
    this.f32.fill(low, this.at.input / 4, this.at.input / 4 + B * SLOT);
    const parameter = (block: number) => (name: string): number => {
      const at = this.layout.at[name];
      if (at === undefined) throw new Error(`internal: no parameter ${name} in ${arch.name}`);
      return block + at * 4;
    };
    const placement: Placement = {
      k: kernels,
      param: parameter(this.at.params),
      grad: parameter(this.at.grads),
      act: (name) => {
        const base = offset(name), bytes = arch.activations[name]! * 4;
        return (first) => base + first * bytes;
      },
      fixed: offset,
    };
    this.passes = arch.bind(placement);
    this.dense = arch.dense.map((d) => placeDenseGradient(d, placement));
    const images = Math.min(capacity, SHARD_SIZE), view = (at: number, length: number) => this.f32.subarray(at / 4, at / 4 + length);
    this.shardPieces = [
      ...this.shardGradient.ranges.map((r) => ({ from: view(this.at.grads + r.at * 4, r.length), pos: r.pos })),
      ...this.dense.flatMap((d, i) => [
        { from: view(d.dout(0), images * d.N), pos: this.shardGradient.dense[i]!.dout },
        { from: view(d.inp(0), images * d.K), pos: this.shardGradient.dense[i]!.inp },
      ]),
    ];
  }

  /** Fresh weights and zero biases (the architecture's initialisation), fresh Adam state, all from `seed`. */
  initialize(seed: number): void {
    this.setWeights(this.arch.initialize(new Rng(seed)));
    this.resetOptimizer();
  }

  /** Zeroes Adam's moments and step count. */
  resetOptimizer(): void {
    this.clear(this.at.adamM);
    this.clear(this.at.adamV);
    this.adamSteps = 0;
  }

  /** Zeroes a parameter-shaped block. */
  private clear(block: number): void {
    this.f32.fill(0, block / 4, block / 4 + this.layout.total);
  }

  /** A copy of every parameter tensor. */
  getWeights(): Weights {
    return this.tensors(this.at.params);
  }

  /**
   * Replaces every parameter tensor (lengths must match the architecture's shapes). For "lenet5-1998",
   * C3 weights outside the paper's connection table are set to 0.
   */
  setWeights(weights: Weights): void {
    this.setTensors(this.at.params, "params", weights);
    const mask = this.arch.constants.c3Mask;
    if (mask) this.kernels.mask_f32(this.at.params + this.layout.at["c3.weight"]! * 4, this.regions.c3Mask!.offset, mask.length);
  }

  /** Copies of the tensors of a parameter-shaped block (params, grads, adamM, adamV). */
  private tensors(block: number): Weights {
    const w: Weights = {}, base = block / 4;
    for (const p of this.arch.parameters) w[p.name] = this.f32.slice(base + this.layout.at[p.name]!, base + this.layout.at[p.name]! + sizeOf(p.shape));
    return w;
  }

  private setTensors(block: number, what: string, tensors: Weights): void {
    const base = block / 4;
    for (const p of this.arch.parameters) {
      const data = tensors[p.name];
      if (!data || data.length !== sizeOf(p.shape)) {
        throw new RangeError(`${what}: ${p.name} needs ${sizeOf(p.shape)} values (shape ${p.shape.join("x")}), got ${data?.length ?? "none"}`);
      }
      this.f32.set(data, base + this.layout.at[p.name]!);
    }
  }

  /**
   * Copies a batch into the input region, scaled to the network's input range ([0,1] for "lenet5";
   * background -0.1 to foreground 1.175 for "lenet5-1998"), and its labels if given. Float images
   * are taken as already in [0,1]; uint8 ones are distorted first when `batch.distort` is given.
   */
  setBatch(batch: Batch): void {
    const { images, labels, count, distort } = batch;
    checkBatchSize(count, this.capacity);
    const input = this.at.input / 4, labelAt = this.at.labels / 4;
    const f32 = this.f32;
    const { low, high } = this.arch.input;
    // Plain uint8 images are staged as bytes and scaled by images_to_input, one call for the batch;
    // distorted and float images (values in [0,1]) are written here, then mapped to [low, high].
    const plain = images instanceof Uint8Array && !distort;
    const pixels = this.at.pixels;
    const unit = low === 0 && high === 1;
    if (plain) stageImages(this.u8, images, batch, pixels);
    for (let i = 0; i < count; i++) {
      const n = imageNumber(batch, i);
      if (!plain) {
        const src = imageStart(images, n);
        const dst = slotInterior(input, i); // the slot's border is never written
        if (distort && images instanceof Uint8Array) distort(f32, dst, INPUT_SIDE, images, n);
        else for (let row = 0; row < IMAGE_SIDE; row++) f32.set(images.subarray(src + row * IMAGE_SIDE, src + (row + 1) * IMAGE_SIDE), dst + row * INPUT_SIDE);
        if (!unit) {
          for (let row = 0; row < IMAGE_SIDE; row++) {
            for (let c = dst + row * INPUT_SIDE; c < dst + row * INPUT_SIDE + IMAGE_SIDE; c++) f32[c] = low + (high - low) * f32[c]!;
          }
        }
      }
      if (labels) this.i32[labelAt + i] = labelOf(labels, n, this.classes);
    }
    if (plain) this.kernels.images_to_input(input * 4, pixels, this.at.byteTable, count, IMAGE_SIDE, INPUT_SIDE);
  }

  /**
   * Forward + softmax + loss for `B` images from `first` (labels set by setBatch); returns the
   * SUMMED loss. `training` keeps what the backward pass reads (the activations).
   */
  private forwardLoss(B: number, first: number, training: boolean): number {
    this.passes.forward(B, first, training);
    const L = this.arch.logitsPerImage;
    return this.kernels.softmax_xent_fwd(this.at.probs + first * L * 4, this.at.logits + first * L * 4, this.at.labels + first * 4, B, L);
  }

  /**
   * Backward pass for `B` images from `first`, of a loss whose gradient w.r.t. each logit row is
   * (probs - onehot) * scale. Parameter gradients ACCUMULATE.
   */
  private backward(B: number, first: number, scale: number, denseWeights: boolean): void {
    const L = this.arch.logitsPerImage;
    this.kernels.softmax_xent_bwd(this.at.dlogits + first * L * 4, this.at.probs + first * L * 4, this.at.labels + first * 4, B, L, scale);
    this.passes.backward(B, first, denseWeights);
  }

  /** Sets every parameter gradient to zero. */
  zeroGradients(): void {
    this.clear(this.at.grads);
  }

  /**
   * Adds the gradients of the batch-MEAN loss of a `batchSize`-image batch, contributed by its
   * images [first, first + count) as set by setBatch, to the gradient block, shard by shard
   * (SHARD_SIZE images each, in order). Returns the summed loss of those images.
   * Fixed shards make the sum's rounding independent of how many threads share a batch.
   * `denseWeights` false: not the dense layers' weight gradients (a worker's shard for
   * exportShardGradient; then `count` is at most SHARD_SIZE and `first` 0).
   */
  accumulateGradients(count: number, batchSize: number, first = 0, denseWeights = true): number {
    this.requireTraining();
    let loss = 0;
    for (let s = first; s < first + count; s += SHARD_SIZE) {
      const n = Math.min(SHARD_SIZE, first + count - s);
      loss += this.forwardLoss(n, s, true);
      this.backward(n, s, 1 / batchSize, denseWeights);
    }
    return loss;
  }

  /** Whether every value in the gradient block is a finite number. */
  gradientsFinite(): boolean {
    return this.kernels.count_nonfinite(this.at.grads, this.layout.total) === 0;
  }

  /** The parameter tensors whose gradient holds a NaN or Infinity, in the architecture's order. */
  nonFiniteGradients(): ParameterName[] {
    return this.arch.parameters.filter((p) => this.kernels.count_nonfinite(this.at.grads + this.layout.at[p.name]! * 4, sizeOf(p.shape)) > 0).map((p) => p.name);
  }

  /** Copies of Adam's first and second moments, per tensor, and its step count. */
  getAdamState(): { m: Weights; v: Weights; steps: number } {
    return { m: this.tensors(this.at.adamM), v: this.tensors(this.at.adamV), steps: this.adamSteps };
  }

  /** Restores Adam's state (from a checkpoint). */
  setAdamState(state: { m: Weights; v: Weights; steps: number }): void {
    this.setTensors(this.at.adamM, "adamM", state.m);
    this.setTensors(this.at.adamV, "adamV", state.v);
    this.adamSteps = state.steps;
  }

  /**
   * Writes the gradient of the shard just accumulated from zero with `denseWeights` false into
   * `out` (`shardGradient.length` floats), in the form addShardGradient takes: the gradients made,
   * and what the dense layers' weight gradients read (rows of SHARD_SIZE images: those past the
   * shard's are not read). Under a sixth of the gradient block, so threads hand each other far less
   * (the copy between cores, not the arithmetic, was the cost).
   * @internal
   */
  exportShardGradient(out: Float32Array): void {
    for (const piece of this.shardPieces) out.set(piece.from, piece.pos);
  }

  /**
   * Adds another thread's shard of `n` images (its exportShardGradient) to the gradient block: its
   * gradients, and the dense layers' weight gradients made here from the activations handed over.
   * The same bits as accumulating the shard here (each kernel adds its shard's sum once).
   * @internal
   */
  addShardGradient(shard: Float32Array, n: number): void {
    const { ranges, dense, length } = this.shardGradient, at = this.at.shardIn;
    if (shard.length !== length) throw new RangeError(`a shard's gradient is ${length} floats, got ${shard.length}`);
    this.f32.set(shard, at / 4);
    for (const r of ranges) this.kernels.add_f32(this.at.grads + r.at * 4, at + r.pos * 4, r.length);
    for (let i = 0; i < dense.length; i++) denseWeightGradient(this.kernels, this.dense[i]!, n, at + dense[i]!.dout * 4, at + dense[i]!.inp * 4);
  }

  /**
   * The browser's inference bundle (lenet-wasm/inference) inlines a module of forward kernels only
   * (assembly/inference.ts): such a model predicts, and says clearly that it cannot train.
   */
  private requireTraining(): void {
    if (!this.trains) {
      throw new WasmSupportError("this model's WebAssembly module holds the forward kernels only (the inference bundle, lenet-wasm/inference): it predicts but cannot train. Train with lenet-wasm (its whole module).");
    }
  }

  /** One Adam step with the gradients in the gradient block. */
  applyAdam(adam: AdamConfig = DEFAULT_ADAM): void {
    this.requireTraining();
    this.adamSteps++;
    const t = this.adamSteps;
    const alpha = (adam.lr * Math.sqrt(1 - Math.pow(adam.beta2, t))) / (1 - Math.pow(adam.beta1, t));
    const n = this.layout.total;
    if (adam.weightDecay) this.kernels.scale_f32(this.at.params, n, 1 - adam.lr * adam.weightDecay);
    this.kernels.adam_step(this.at.params, this.at.grads, this.at.adamM, this.at.adamV, n, alpha, adam.beta1, adam.beta2, adam.eps);
  }

  /**
   * One Adam step on the batch set by setBatch (with labels). Returns the batch's mean loss
   * (before the update); `correctInBatch` then gives its accuracy.
   */
  trainStep(B: number, adam: AdamConfig = DEFAULT_ADAM): number {
    this.zeroGradients();
    const loss = this.accumulateGradients(B, B) / B;
    this.applyAdam(adam);
    return loss;
  }

  /**
   * Live views of the whole parameter and gradient blocks in WASM memory (`parameterBlockLength` floats,
   * each tensor 16-byte aligned, in the architecture's order). Copy them to keep values; for
   * exchanging weights and gradients between model instances (multi-core training).
   */
  parameterBlock(): Float32Array {
    return this.blocks.params;
  }
  gradientBlock(): Float32Array {
    return this.blocks.grads;
  }

  /** Summed loss of the batch set by setBatch (with labels), without training. */
  evaluateBatch(B: number): number {
    return this.forwardLoss(B, 0, false);
  }

  /**
   * Live view of the class probabilities of the last batch evaluated (B x classes); copy what you keep.
   * For "lenet5-1998", the softmax of the 10 RBF units' scores (without the constant rubbish unit).
   */
  batchProbabilities(B: number): Float32Array {
    const L = this.arch.logitsPerImage, N = this.classes, probs = this.at.probs / 4;
    if (L === N) return this.f32.subarray(probs, probs + B * N);
    const out = this.at.classProbs / 4, f32 = this.f32;
    for (let b = 0; b < B; b++) {
      let sum = 0;
      for (let c = 0; c < N; c++) sum += f32[probs + b * L + c]!;
      for (let c = 0; c < N; c++) f32[out + b * N + c] = f32[probs + b * L + c]! / sum;
    }
    return this.f32.subarray(out, out + B * N);
  }

  /** Class probabilities of the first `B` images of the batch set by setBatch (no labels needed): a live view, as batchProbabilities. */
  predictBatch(B: number): Float32Array {
    this.passes.forward(B, 0, false);
    this.kernels.softmax_fwd(this.at.probs, this.at.logits, B, this.arch.logitsPerImage);
    return this.batchProbabilities(B);
  }

  /**
   * Every layer's output for one image (28x28, as predict takes), from the input field to the class
   * probabilities, in the network's order (arch.layers): copies. The training pass computes them, so
   * the feature maps are the ones backward would read; the probabilities equal predict's, bit for bit.
   */
  activations(image: Images): LayerActivation[] {
    this.setBatch({ images: image, count: 1 });
    this.passes.forward(1, 0, true); // every activation stored (inference does not store c1 or c3)
    this.kernels.softmax_fwd(this.at.probs, this.at.logits, 1, this.arch.logitsPerImage);
    const classProbs = this.batchProbabilities(1);
    return this.arch.layers.map(({ name, shape }) => {
      const at = this.regions[name]!.offset / 4;
      const values = name === "probs" ? classProbs.slice() : this.f32.slice(at, at + sizeOf(shape));
      return { name, shape, values };
    });
  }

  /** How many of the last batch's predictions (the class with the highest score) equal their labels. */
  correctInBatch(B: number, first = 0): number {
    const L = this.arch.logitsPerImage;
    const probs = this.at.probs / 4 + first * L, labels = this.at.labels / 4 + first;
    let correct = 0;
    for (let b = 0; b < B; b++) {
      if (argmax(this.f32, probs + b * L, this.classes) === this.i32[labels + b]) correct++;
    }
    return correct;
  }

  /**
   * Loss and gradients of the batch-mean loss for `count` images and labels, without changing the
   * weights (for gradient checks and custom optimisers). Returns copies.
   */
  lossAndGradients(images: Images, labels: Uint8Array, count: number): { loss: number; gradients: Weights } {
    this.setBatch({ images, labels, count });
    this.zeroGradients();
    const loss = this.accumulateGradients(count, count) / count;
    return { loss, gradients: this.tensors(this.at.grads) };
  }

  /**
   * Class probabilities for `count` images (default: all of them), as a new Float32Array of
   * count x classes values. Images are 28x28, row-major, uint8 0..255 or float in [0,1].
   */
  predict(images: Images, count?: number): Float32Array {
    return predictAll(this, images, imageCount(images, count));
  }
}
