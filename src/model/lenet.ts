// The model: a network of src/architectures.ts (the article's LeNet-5 by default, or the 1998 paper's)
// over regions planned once in WASM memory. Parameters use PyTorch's state_dict names and layouts.
// Forward and backward are flat lists of kernel calls (architectures.ts); this file owns the memory,
// the batch input, the loss, Adam and the exchange of weights and gradients.
import { allocateRegions, alignedLength, type Region } from "../wasm/arena.js";
import { architecture, CLASSES, LENET5, type Architecture, type ArchitectureName, type Net, type ParameterSpec } from "./networks.js";
import { Rng } from "./rng.js";
import { loadKernels, relaxedSimdSupported, relaxedWasmUrl, type Kernels, type WasmSource } from "../wasm/kernels.js";

export { architecture, ARCHITECTURES, ARCHITECTURE_NAMES, CLASSES, MAX_CLASSES, type Architecture, type ArchitectureName, type ParameterSpec } from "./networks.js";

/** Side of an MNIST image, and of the padded input the first conv reads (a border of 2). */
export const IMAGE_SIDE = 28;
const PADDED_SIDE = 32;
const PAD = 2;
export const PIXELS = IMAGE_SIDE * IMAGE_SIDE;

/** The default (article) network's parameter tensors, in PyTorch `state_dict` order, names and shapes. */
export const PARAMETERS = LENET5.parameters;

/** A parameter tensor's name ("c1.weight", ...; see the architecture's `parameters`). */
export type ParameterName = string;
/** One Float32Array per parameter tensor, row-major in the shapes of the architecture's parameters. */
export type Weights = Record<string, Float32Array>;

const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

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

/** Floats in the default network's parameter block: every tensor padded to a multiple of 4 (parameterBlock()). */
export const PARAMETER_BLOCK = parameterLayout(PARAMETERS).total;

/**
 * Images per gradient shard. A batch's gradient is the sum of its shards' gradients in shard
 * order, whether one thread computes them all or several share them: same bits for any thread count.
 */
export const SHARD_SIZE = 8;

/** Images per forward call in predict() and evaluation: small enough that all activations stay in cache. */
export const INFERENCE_CHUNK = 32;

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
}

/**
 * Writes image `n` of `images` (uint8, 28x28 each) as floats in [0,1] into `into` from element
 * `offset`, rows `stride` apart: how training distorts its images (train/augment.ts's distortion()).
 */
export type ImageWriter = (into: Float32Array, offset: number, stride: number, images: Uint8Array, n: number) => void;

/** Images the caller hands in: uint8 pixels 0..255 (MNIST bytes) or floats already in [0,1]. */
export type Images = Uint8Array | Float32Array;

/** Largest batch whose activations fit in 4 GiB of WebAssembly memory, with room to spare. */
const maxBatch = (arch: Architecture): number =>
  Math.floor((2 ** 32 - 64 * 2 ** 20) / (4 * Object.values(arch.activations).reduce((a, b) => a + b, 0)));

export class LeNet5 {
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

  private readonly k: Kernels;
  private readonly r: Record<string, Region>;
  private readonly f32: Float32Array;
  private readonly i32: Int32Array;
  private readonly u8: Uint8Array;
  private readonly layout: { at: Record<string, number>; total: number };
  /** Byte offsets of each parameter and of its gradient. */
  private readonly P: Record<string, number> = {};
  private readonly G: Record<string, number> = {};
  private readonly net: Net;

  /** Creates a model with fresh weights (Glorot-uniform for "lenet5", the paper's rule for "lenet5-1998") and zero biases. */
  static async create(options: LeNet5Options = {}): Promise<LeNet5> {
    const arch = architecture(options.arch ?? "lenet5", options.classes ?? CLASSES);
    const fastMath = options.fastMath === true && options.wasm === undefined && (await relaxedSimdSupported());
    const model = new LeNet5(arch, await loadKernels(options.wasm ?? (fastMath ? relaxedWasmUrl : undefined)), options.batchSize ?? 32, fastMath);
    model.initialize(options.seed ?? 1);
    return model;
  }

  private constructor(arch: Architecture, kernels: Kernels, capacity: number, readonly fastMath: boolean) {
    // images_to_input and setBatch lay images out in 32x32 slots: every network's input is one.
    if (arch.activations.input !== 32 * 32) throw new Error(`internal: ${arch.name}'s input is not a 32x32 slot`);
    const limit = maxBatch(arch);
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > limit) {
      throw new RangeError(`batchSize must be an integer in 1..${limit} (WebAssembly memory holds at most 4 GiB), got ${capacity}`);
    }
    this.arch = arch;
    this.classes = arch.classes;
    this.k = kernels;
    this.capacity = capacity;
    this.layout = parameterLayout(arch.parameters);
    this.parameterBlockLength = this.layout.total;
    const B = capacity, total = this.layout.total;
    const perImage = Object.fromEntries(Object.entries(arch.activations).map(([name, n]) => [name, B * n]));
    const constants = Object.fromEntries(Object.entries(arch.constants).map(([name, c]) => [name, c.length]));
    this.r = allocateRegions(kernels.memory, kernels.heap_base(), {
      params: total,
      grads: total,
      gradsIn: total, // gradients handed in by addGradients
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
    this.f32 = new Float32Array(kernels.memory.buffer);
    this.i32 = new Int32Array(kernels.memory.buffer);
    this.u8 = new Uint8Array(kernels.memory.buffer);
    for (const p of arch.parameters) {
      this.P[p.name] = this.r.params!.offset + this.layout.at[p.name]! * 4;
      this.G[p.name] = this.r.grads!.offset + this.layout.at[p.name]! * 4;
    }
    for (const [name, c] of Object.entries(arch.constants)) this.f32.set(c, this.region(name).offset / 4);
    const { low, high } = arch.input;
    // float32(low + (high - low) * v / 255) for every byte v: images_to_input's table.
    this.f32.set(Float32Array.from({ length: 256 }, (_, v) => low + ((high - low) * v) / 255), this.region("byteTable").offset / 4);
    // The border of every input slot is the background value; setBatch only writes the 28x28 interior.
    const input = this.region("input");
    this.f32.fill(low, input.offset / 4, input.offset / 4 + input.length);
    this.net = {
      k: kernels,
      param: (name) => this.P[name]!,
      grad: (name) => this.G[name]!,
      act: (name, first) => this.region(name).offset + first * arch.activations[name]! * 4,
      fixed: (name) => this.region(name).offset,
    };
  }

  private region(name: string): Region {
    const r = this.r[name];
    if (r === undefined) throw new Error(`internal: no region ${name} in ${this.arch.name}`);
    return r;
  }

  /** Fresh weights and zero biases (the architecture's initialisation), fresh Adam state, all from `seed`. */
  initialize(seed: number): void {
    this.setWeights(this.arch.initialize(new Rng(seed)));
    this.resetOptimizer();
  }

  /** Zeroes Adam's moments and step count. */
  resetOptimizer(): void {
    this.clear("adamM");
    this.clear("adamV");
    this.adamSteps = 0;
  }

  private clear(name: string): void {
    const r = this.region(name);
    this.f32.fill(0, r.offset / 4, r.offset / 4 + alignedLength(r.length));
  }

  /** A copy of every parameter tensor. */
  getWeights(): Weights {
    return this.tensors("params");
  }

  /**
   * Replaces every parameter tensor (lengths must match the architecture's shapes). For "lenet5-1998",
   * C3 weights outside the paper's connection table are set to 0.
   */
  setWeights(weights: Weights): void {
    this.setTensors("params", weights);
    if (this.arch.constants.c3Mask) this.k.mul_f32(this.P["c3.weight"]!, this.region("c3Mask").offset, this.arch.constants.c3Mask.length);
  }

  /** Copies of the tensors of a parameter-shaped block (params, grads, adamM, adamV). */
  private tensors(block: string): Weights {
    const w: Weights = {}, base = this.region(block).offset / 4;
    for (const p of this.arch.parameters) w[p.name] = this.f32.slice(base + this.layout.at[p.name]!, base + this.layout.at[p.name]! + sizeOf(p.shape));
    return w;
  }

  private setTensors(block: string, tensors: Weights): void {
    const base = this.region(block).offset / 4;
    for (const p of this.arch.parameters) {
      const data = tensors[p.name];
      if (!data || data.length !== sizeOf(p.shape)) {
        throw new RangeError(`${block}: ${p.name} needs ${sizeOf(p.shape)} values (shape ${p.shape.join("x")}), got ${data?.length ?? "none"}`);
      }
      this.f32.set(data, base + this.layout.at[p.name]!);
    }
  }

  /**
   * Copies `count` images into the input region, scaled to the network's input range ([0,1] for
   * "lenet5"; background -0.1 to foreground 1.175 for "lenet5-1998"; uint8 images distorted when
   * `distort` is given), and their labels if given. Image i of the batch is `images` image number
   * `order[start + i]` (or `start + i` without order). Float images are taken as already in [0,1].
   */
  setBatch(images: Images, labels: Uint8Array | null, count: number, start = 0, order?: Uint32Array, distort?: ImageWriter): void {
    if (count < 1 || count > this.capacity) throw new RangeError(`batch of ${count} images: must be 1..${this.capacity}`);
    const input = this.region("input").offset / 4;
    const labelAt = this.region("labels").offset / 4;
    const f32 = this.f32;
    const { low, high } = this.arch.input;
    const slot = this.arch.activations.input!;
    // Plain uint8 images are staged as bytes and scaled by images_to_input, one call for the batch;
    // distorted and float images (values in [0,1]) are written here, then mapped to [low, high].
    const plain = images instanceof Uint8Array && !distort;
    const pixels = this.region("pixels").offset;
    const unit = low === 0 && high === 1;
    if (plain && !order && (start + count) * PIXELS <= images.length) this.u8.set(images.subarray(start * PIXELS, (start + count) * PIXELS), pixels);
    for (let i = 0; i < count; i++) {
      const n = order ? order[start + i]! : start + i;
      const src = n * PIXELS;
      if (src + PIXELS > images.length) throw new RangeError(`image ${n} is past the end of the images (${images.length / PIXELS} images)`);
      if (plain) {
        if (order) this.u8.set(images.subarray(src, src + PIXELS), pixels + i * PIXELS);
      } else {
        // Interior of the 32x32 slot; its 2-pixel border is never written.
        const dst = input + i * slot + PAD * PADDED_SIDE + PAD;
        if (distort && images instanceof Uint8Array) distort(f32, dst, PADDED_SIDE, images, n);
        else for (let row = 0; row < IMAGE_SIDE; row++) f32.set(images.subarray(src + row * IMAGE_SIDE, src + (row + 1) * IMAGE_SIDE), dst + row * PADDED_SIDE);
        if (!unit) {
          for (let row = 0; row < IMAGE_SIDE; row++) {
            for (let c = dst + row * PADDED_SIDE; c < dst + row * PADDED_SIDE + IMAGE_SIDE; c++) f32[c] = low + (high - low) * f32[c]!;
          }
        }
      }
      if (labels) {
        const label = labels[n]!;
        if (label >= this.classes) throw new RangeError(`label ${label} of image ${n} is outside 0..${this.classes - 1}`);
        this.i32[labelAt + i] = label;
      }
    }
    if (plain) this.k.images_to_input(input * 4, pixels, this.region("byteTable").offset, count);
  }

  /** Byte offset of image `first` of the batch in region `name` (activations are stored per image). */
  private at(name: string, first: number): number {
    return name === "labels" ? this.region(name).offset + first * 4 : this.net.act(name, first);
  }

  /**
   * Forward + softmax + loss for `B` images from `first` (labels set by setBatch); returns the
   * SUMMED loss. `training` keeps what the backward pass reads (conv patches, activations).
   */
  private forwardLoss(B: number, first: number, training: boolean): number {
    this.arch.forward(this.net, B, first, training);
    return this.k.softmax_xent_fwd(this.at("probs", first), this.at("logits", first), this.at("labels", first), B, this.arch.logitsPerImage);
  }

  /**
   * Backward pass for `B` images from `first`, of a loss whose gradient w.r.t. each logit row is
   * (probs - onehot) * scale. Parameter gradients ACCUMULATE.
   */
  private backward(B: number, first: number, scale: number): void {
    this.k.softmax_xent_bwd(this.at("dlogits", first), this.at("probs", first), this.at("labels", first), B, this.arch.logitsPerImage, scale);
    this.arch.backward(this.net, B, first);
  }

  /** Sets every parameter gradient to zero. */
  zeroGradients(): void {
    this.clear("grads");
  }

  /**
   * Adds the gradients of the batch-MEAN loss of a `batchSize`-image batch, contributed by its
   * images [first, first + count) as set by setBatch, to the gradient block, shard by shard
   * (SHARD_SIZE images each, in order). Returns the summed loss of those images.
   * Fixed shards make the sum's rounding independent of how many threads share a batch.
   */
  accumulateGradients(count: number, batchSize: number, first = 0): number {
    let loss = 0;
    for (let s = first; s < first + count; s += SHARD_SIZE) {
      const n = Math.min(SHARD_SIZE, first + count - s);
      loss += this.forwardLoss(n, s, true);
      this.backward(n, s, 1 / batchSize);
    }
    return loss;
  }

  /** Whether every value in the gradient block is a finite number. */
  gradientsFinite(): boolean {
    return this.k.count_nonfinite(this.region("grads").offset, this.layout.total) === 0;
  }

  /** The parameter tensors whose gradient holds a NaN or Infinity, in the architecture's order. */
  nonFiniteGradients(): ParameterName[] {
    return this.arch.parameters.filter((p) => this.k.count_nonfinite(this.G[p.name]!, sizeOf(p.shape)) > 0).map((p) => p.name);
  }

  /** Copies of Adam's first and second moments, per tensor, and its step count. */
  getAdamState(): { m: Weights; v: Weights; steps: number } {
    return { m: this.tensors("adamM"), v: this.tensors("adamV"), steps: this.adamSteps };
  }

  /** Restores Adam's state (from a checkpoint). */
  setAdamState(state: { m: Weights; v: Weights; steps: number }): void {
    this.setTensors("adamM", state.m);
    this.setTensors("adamV", state.v);
    this.adamSteps = state.steps;
  }

  /** Adds a gradient block computed elsewhere (another thread's shard) to this one, in f32. */
  addGradients(block: Float32Array): void {
    const into = this.region("gradsIn");
    this.f32.set(block, into.offset / 4);
    this.k.add_f32(this.region("grads").offset, into.offset, this.layout.total);
  }

  /** One Adam step with the gradients in the gradient block. */
  applyAdam(adam: AdamConfig = DEFAULT_ADAM): void {
    this.adamSteps++;
    const t = this.adamSteps;
    const alpha = (adam.lr * Math.sqrt(1 - Math.pow(adam.beta2, t))) / (1 - Math.pow(adam.beta1, t));
    const params = this.region("params");
    if (adam.weightDecay) this.k.scale_f32(params.offset, alignedLength(params.length), 1 - adam.lr * adam.weightDecay);
    this.k.adam_step(params.offset, this.region("grads").offset, this.region("adamM").offset, this.region("adamV").offset,
      alignedLength(params.length), alpha, adam.beta1, adam.beta2, adam.eps);
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
    return this.view("params");
  }
  gradientBlock(): Float32Array {
    return this.view("grads");
  }

  private view(name: string): Float32Array {
    const r = this.region(name);
    return this.f32.subarray(r.offset / 4, r.offset / 4 + alignedLength(r.length));
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
    const L = this.arch.logitsPerImage, N = this.classes, probs = this.region("probs").offset / 4;
    if (L === N) return this.f32.subarray(probs, probs + B * N);
    const out = this.region("classProbs").offset / 4, f32 = this.f32;
    for (let b = 0; b < B; b++) {
      let sum = 0;
      for (let c = 0; c < N; c++) sum += f32[probs + b * L + c]!;
      for (let c = 0; c < N; c++) f32[out + b * N + c] = f32[probs + b * L + c]! / sum;
    }
    return this.f32.subarray(out, out + B * N);
  }

  /**
   * What the convolutions see in one image: the activations of c1 (6 x 28 x 28) and c3
   * (16 x 10 x 10), as copies. For plots of feature maps.
   */
  featureMaps(image: Images): { c1: Float32Array; c3: Float32Array } {
    this.setBatch(image, null, 1);
    this.arch.forward(this.net, 1, 0, true); // the training pass: inference does not store c1
    const c1 = this.region("c1").offset / 4, c3 = this.region("c3").offset / 4;
    return { c1: this.f32.slice(c1, c1 + 6 * 28 * 28), c3: this.f32.slice(c3, c3 + 16 * 10 * 10) };
  }

  /** How many of the last batch's predictions (the class with the highest score) equal their labels. */
  correctInBatch(B: number, first = 0): number {
    const L = this.arch.logitsPerImage;
    const probs = this.at("probs", first) / 4, labels = this.at("labels", first) / 4;
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
    this.setBatch(images, labels, count);
    this.zeroGradients();
    const loss = this.accumulateGradients(count, count) / count;
    return { loss, gradients: this.tensors("grads") };
  }

  /**
   * Class probabilities for `count` images (default: all of them), as a new Float32Array of
   * count x classes values. Images are 28x28, row-major, uint8 0..255 or float in [0,1].
   */
  predict(images: Images, count = Math.floor(images.length / PIXELS)): Float32Array {
    if (count * PIXELS > images.length) throw new RangeError(`predict: ${count} images need ${count * PIXELS} values, got ${images.length}`);
    const N = this.classes, out = new Float32Array(count * N);
    const L = this.arch.logitsPerImage;
    const probs = this.region("probs").offset;
    const chunk = Math.min(this.capacity, INFERENCE_CHUNK);
    for (let start = 0; start < count; start += chunk) {
      const B = Math.min(chunk, count - start);
      this.setBatch(images, null, B, start);
      this.arch.forward(this.net, B, 0, false);
      this.k.softmax_fwd(probs, this.region("logits").offset, B, L);
      out.set(this.batchProbabilities(B), start * N);
    }
    return out;
  }
}

/** Index of the largest of n values at `offset` (the first one on ties). */
export function argmax(values: ArrayLike<number>, offset: number, n: number): number {
  let best = 0;
  for (let j = 1; j < n; j++) if (values[offset + j]! > values[offset + best]!) best = j;
  return best;
}
