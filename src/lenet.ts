// LeNet-5 as the reference article builds it (Keras): 28x28x1 in [0,1] -> conv 6@5x5 'same' tanh ->
// avgpool 2x2 -> conv 16@5x5 'valid' tanh -> avgpool 2x2 -> flatten 400 (C,H,W) -> dense 120 tanh ->
// dense 84 tanh -> dense 10 softmax. Parameters use PyTorch's state_dict names and layouts.
// Forward and backward are flat lists of kernel calls over regions planned once in WASM memory.
import { allocateRegions, alignedLength, type Region } from "./arena.js";
import { distortInto, type Distortion } from "./augment.js";
import { Rng } from "./rng.js";
import { loadKernels, relaxedSimdSupported, relaxedWasmUrl, type Kernels, type WasmSource } from "./wasm.js";

/** Side of an MNIST image, and of the zero-padded input conv c1 reads ('same' padding of 2). */
export const IMAGE_SIDE = 28;
const PADDED_SIDE = 32;
const PAD = 2;
export const PIXELS = IMAGE_SIDE * IMAGE_SIDE;
export const CLASSES = 10;

/** The parameter tensors, in PyTorch `state_dict` order, names and shapes. */
export const PARAMETERS = [
  { name: "c1.weight", shape: [6, 1, 5, 5] },
  { name: "c1.bias", shape: [6] },
  { name: "c3.weight", shape: [16, 6, 5, 5] },
  { name: "c3.bias", shape: [16] },
  { name: "f5.weight", shape: [120, 400] },
  { name: "f5.bias", shape: [120] },
  { name: "f6.weight", shape: [84, 120] },
  { name: "f6.bias", shape: [84] },
  { name: "out.weight", shape: [10, 84] },
  { name: "out.bias", shape: [10] },
] as const;

export type ParameterName = (typeof PARAMETERS)[number]["name"];
/** One Float32Array per parameter tensor, row-major in the shapes of PARAMETERS. */
export type Weights = Record<ParameterName, Float32Array>;

const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** Element offset of each tensor inside the parameter block (each 16-byte aligned) and the block size. */
const PARAM_LAYOUT = (() => {
  const at = {} as Record<ParameterName, number>;
  let n = 0;
  for (const p of PARAMETERS) {
    at[p.name] = n;
    n += alignedLength(sizeOf(p.shape));
  }
  return { at, total: n };
})();

/** Floats in the parameter block: every tensor padded to a multiple of 4 (parameterBlock()). */
export const PARAMETER_BLOCK = PARAM_LAYOUT.total;

/**
 * Images per gradient shard. A batch's gradient is the sum of its shards' gradients in shard
 * order, whether one thread computes them all or several share them: same bits for any thread count.
 */
export const SHARD_SIZE = 8;

/** Images per forward call in predict() and evaluation: small enough that all activations stay in cache. */
export const INFERENCE_CHUNK = 32;

/** Number of trainable parameters (61,706). */
export const PARAMETER_COUNT = PARAMETERS.reduce((n, p) => n + sizeOf(p.shape), 0);

/** Adam settings; the defaults are Keras's and the article's. */
export interface AdamConfig {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
}
export const DEFAULT_ADAM: Readonly<AdamConfig> = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-7 };

export interface LeNet5Options {
  /** Seed of the Glorot-uniform initialisation. Default 1. */
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

/** Training-time distortion of a batch: which distortions, and the (seed, epoch) they are drawn for. */
export interface DistortBatch {
  distortion: Distortion;
  seed: number;
  epoch: number;
}

/** Images the caller hands in: uint8 pixels 0..255 (MNIST bytes) or floats already in [0,1]. */
export type Images = Uint8Array | Float32Array;

/** float32(v / 255) for every byte, so a uint8 image is scaled with one table lookup per pixel. */
const BYTE_TO_UNIT = Float32Array.from({ length: 256 }, (_, v) => v / 255);

/** Per-image sizes (elements) of the activations, in forward order, and of their gradients. */
const ACT = {
  input: PADDED_SIDE * PADDED_SIDE, // (1,32,32), zero border
  col1: 25 * 28 * 28, // c1's unrolled input patches (im2col), kept for its filter gradient
  c1: 6 * 28 * 28, // conv c1 then tanh, in place
  col3: 150 * 10 * 10, // c3's unrolled input patches
  p2: 6 * 14 * 14,
  c3: 16 * 10 * 10, // conv c3 then tanh, in place
  p4: 16 * 5 * 5, // = flatten (400), channel-major like PyTorch
  f5: 120,
  f6: 84,
  logits: CLASSES,
  probs: CLASSES,
  // gradients w.r.t. the activations, in backward order
  dlogits: CLASSES,
  df6: 84,
  df5: 120,
  dp4: 16 * 5 * 5,
  dc3: 16 * 10 * 10,
  dp2: 6 * 14 * 14,
  dc1: 6 * 28 * 28,
} as const;

/** Largest batch whose activations (~207 KB an image) fit in 4 GiB of WebAssembly memory, with room to spare. */
const MAX_BATCH = Math.floor((2 ** 32 - 64 * 2 ** 20) / (4 * Object.values(ACT).reduce((a, b) => a + b, 0)));

export class LeNet5 {
  /** Largest batch per call. */
  readonly capacity: number;
  /** Adam steps taken so far (t in the bias corrections). */
  adamSteps = 0;

  private readonly k: Kernels;
  private readonly r: Record<string, Region>;
  private readonly f32: Float32Array;
  private readonly i32: Int32Array;
  /** Byte offsets of each parameter and of its gradient. */
  private readonly P: Record<ParameterName, number>;
  private readonly G: Record<ParameterName, number>;

  /** Creates a model with fresh Glorot-uniform weights and zero biases (like Keras). */
  static async create(options: LeNet5Options = {}): Promise<LeNet5> {
    const fastMath = options.fastMath === true && options.wasm === undefined && (await relaxedSimdSupported());
    const model = new LeNet5(await loadKernels(options.wasm ?? (fastMath ? relaxedWasmUrl : undefined)), options.batchSize ?? 32, fastMath);
    model.initialize(options.seed ?? 1);
    return model;
  }

  private constructor(kernels: Kernels, capacity: number, readonly fastMath: boolean) {
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > MAX_BATCH) {
      throw new RangeError(`batchSize must be an integer in 1..${MAX_BATCH} (WebAssembly memory holds at most 4 GiB), got ${capacity}`);
    }
    this.k = kernels;
    this.capacity = capacity;
    const B = capacity;
    const perImage = Object.fromEntries(Object.entries(ACT).map(([name, n]) => [name, B * n]));
    this.r = allocateRegions(kernels.memory, kernels.heap_base(), {
      params: PARAM_LAYOUT.total,
      grads: PARAM_LAYOUT.total,
      gradsIn: PARAM_LAYOUT.total, // gradients handed in by addGradients
      adamM: PARAM_LAYOUT.total,
      adamV: PARAM_LAYOUT.total,
      labels: B,
      ...perImage,
      dcol3: ACT.col3, // one image's patch gradients, scratch of conv2d_bwd_input
    });
    this.f32 = new Float32Array(kernels.memory.buffer);
    this.i32 = new Int32Array(kernels.memory.buffer);
    this.P = {} as Record<ParameterName, number>;
    this.G = {} as Record<ParameterName, number>;
    for (const p of PARAMETERS) {
      this.P[p.name] = this.r.params!.offset + PARAM_LAYOUT.at[p.name] * 4;
      this.G[p.name] = this.r.grads!.offset + PARAM_LAYOUT.at[p.name] * 4;
    }
  }

  private region(name: string): Region {
    return this.r[name]!;
  }

  /** Glorot-uniform weights, zero biases, fresh Adam state, all from `seed`. */
  initialize(seed: number): void {
    const rng = new Rng(seed);
    this.clear("params");
    for (const p of PARAMETERS) {
      if (p.shape.length === 1) continue; // biases start at zero
      const receptive = sizeOf(p.shape.slice(2));
      const fanIn = p.shape[1] * receptive, fanOut = p.shape[0] * receptive;
      const limit = Math.sqrt(6 / (fanIn + fanOut));
      const start = this.P[p.name] / 4;
      for (let i = 0; i < sizeOf(p.shape); i++) this.f32[start + i] = (2 * rng.next() - 1) * limit;
    }
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

  /** Replaces every parameter tensor (lengths must match PARAMETERS' shapes). */
  setWeights(weights: Weights): void {
    this.setTensors("params", weights);
  }

  /** Copies of the tensors of a parameter-shaped block (params, adamM, adamV). */
  private tensors(block: string): Weights {
    const w = {} as Weights, base = this.region(block).offset / 4;
    for (const p of PARAMETERS) w[p.name] = this.f32.slice(base + PARAM_LAYOUT.at[p.name], base + PARAM_LAYOUT.at[p.name] + sizeOf(p.shape));
    return w;
  }

  private setTensors(block: string, tensors: Weights): void {
    const base = this.region(block).offset / 4;
    for (const p of PARAMETERS) {
      const data = tensors[p.name];
      if (!data || data.length !== sizeOf(p.shape)) {
        throw new RangeError(`${block}: ${p.name} needs ${sizeOf(p.shape)} values (shape ${p.shape.join("x")}), got ${data?.length ?? "none"}`);
      }
      this.f32.set(data, base + PARAM_LAYOUT.at[p.name]);
    }
  }

  /**
   * Copies `count` images into the input region, scaled to [0,1] (uint8 images distorted when
   * `distort` is given), and their labels if given. Image i of the batch is `images` image number
   * `order[start + i]` (or `start + i` without order).
   */
  setBatch(images: Images, labels: Uint8Array | null, count: number, start = 0, order?: Uint32Array, distort?: DistortBatch): void {
    if (count < 1 || count > this.capacity) throw new RangeError(`batch of ${count} images: must be 1..${this.capacity}`);
    const input = this.region("input").offset / 4;
    const labelAt = this.region("labels").offset / 4;
    const f32 = this.f32;
    for (let i = 0; i < count; i++) {
      const n = order ? order[start + i]! : start + i;
      const src = n * PIXELS;
      if (src + PIXELS > images.length) throw new RangeError(`image ${n} is past the end of the images (${images.length / PIXELS} images)`);
      // Interior of the 32x32 slot; its 2-pixel zero border is never written.
      let dst = input + i * ACT.input + PAD * PADDED_SIDE + PAD;
      if (distort && images instanceof Uint8Array) distortInto(f32, dst, PADDED_SIDE, images, n, distort.distortion, distort.seed, distort.epoch);
      else for (let row = 0; row < IMAGE_SIDE; row++, dst += PADDED_SIDE) {
        const s = src + row * IMAGE_SIDE;
        if (images instanceof Uint8Array) {
          for (let c = 0; c < IMAGE_SIDE; c++) f32[dst + c] = BYTE_TO_UNIT[images[s + c]!]!;
        } else {
          for (let c = 0; c < IMAGE_SIDE; c++) f32[dst + c] = images[s + c]!;
        }
      }
      if (labels) {
        const label = labels[n]!;
        if (label >= CLASSES) throw new RangeError(`label ${label} of image ${n} is outside 0..${CLASSES - 1}`);
        this.i32[labelAt + i] = label;
      }
    }
  }

  /** Byte offset of image `first` of the batch in region `name` (activations are stored per image). */
  private at(name: keyof typeof ACT | "labels", first: number): number {
    return this.region(name).offset + first * (name === "labels" ? 1 : ACT[name]) * 4;
  }

  /**
   * Forward pass over `B` images of the batch starting at image `first`; leaves logits in place.
   * `training` keeps every image's conv patches (im2col) for the backward pass.
   */
  private forward(B: number, first: number, training: boolean): void {
    const { k, P } = this;
    const o = (name: keyof typeof ACT): number => this.at(name, first);
    k.conv2d_fwd(o("c1"), o("col1"), o("input"), P["c1.weight"], P["c1.bias"], B, 1, PADDED_SIDE, PADDED_SIDE, 6, 5, training);
    k.tanh_fwd(o("c1"), o("c1"), B * ACT.c1);
    k.avgpool2d_fwd(o("p2"), o("c1"), B, 6, 28, 28);
    k.conv2d_fwd(o("c3"), o("col3"), o("p2"), P["c3.weight"], P["c3.bias"], B, 6, 14, 14, 16, 5, training);
    k.tanh_fwd(o("c3"), o("c3"), B * ACT.c3);
    k.avgpool2d_fwd(o("p4"), o("c3"), B, 16, 10, 10);
    k.dense_fwd(o("f5"), o("p4"), P["f5.weight"], P["f5.bias"], B, 400, 120);
    k.tanh_fwd(o("f5"), o("f5"), B * ACT.f5);
    k.dense_fwd(o("f6"), o("f5"), P["f6.weight"], P["f6.bias"], B, 120, 84);
    k.tanh_fwd(o("f6"), o("f6"), B * ACT.f6);
    k.dense_fwd(o("logits"), o("f6"), P["out.weight"], P["out.bias"], B, 84, CLASSES);
  }

  /**
   * Backward pass for `B` images starting at image `first`, of a loss whose gradient w.r.t. each
   * logit row is (probs - onehot) * scale. Parameter gradients ACCUMULATE (each kernel adds its
   * whole sum once), so shards of a batch processed one after another add their partial sums in order.
   */
  private backward(B: number, first: number, scale: number): void {
    const { k, P, G } = this;
    const o = (name: keyof typeof ACT | "labels"): number => this.at(name, first);
    const dcol3 = this.region("dcol3").offset; // scratch, not per image
    k.softmax_xent_bwd(o("dlogits"), o("probs"), o("labels"), B, CLASSES, scale);
    k.dense_bwd_weight(G["out.weight"], G["out.bias"], o("dlogits"), o("f6"), B, 84, CLASSES);
    k.dense_bwd_input(o("df6"), o("dlogits"), P["out.weight"], B, 84, CLASSES);
    k.tanh_bwd(o("df6"), o("df6"), o("f6"), B * ACT.f6);
    k.dense_bwd_weight(G["f6.weight"], G["f6.bias"], o("df6"), o("f5"), B, 120, 84);
    k.dense_bwd_input(o("df5"), o("df6"), P["f6.weight"], B, 120, 84);
    k.tanh_bwd(o("df5"), o("df5"), o("f5"), B * ACT.f5);
    k.dense_bwd_weight(G["f5.weight"], G["f5.bias"], o("df5"), o("p4"), B, 400, 120);
    k.dense_bwd_input(o("dp4"), o("df5"), P["f5.weight"], B, 400, 120);
    k.avgpool2d_bwd(o("dc3"), o("dp4"), B, 16, 10, 10);
    k.tanh_bwd(o("dc3"), o("dc3"), o("c3"), B * ACT.c3);
    k.conv2d_bwd_filter(G["c3.weight"], G["c3.bias"], o("dc3"), o("col3"), B, 6, 14, 14, 16, 5);
    k.conv2d_bwd_input(o("dp2"), dcol3, o("dc3"), P["c3.weight"], B, 6, 14, 14, 16, 5);
    k.avgpool2d_bwd(o("dc1"), o("dp2"), B, 6, 28, 28);
    k.tanh_bwd(o("dc1"), o("dc1"), o("c1"), B * ACT.c1);
    k.conv2d_bwd_filter(G["c1.weight"], G["c1.bias"], o("dc1"), o("col1"), B, 1, PADDED_SIDE, PADDED_SIDE, 6, 5);
  }

  /** Forward + softmax + loss for `B` images from `first` (labels set by setBatch); returns the SUMMED loss. */
  private forwardLoss(B: number, first: number, training: boolean): number {
    this.forward(B, first, training);
    return this.k.softmax_xent_fwd(this.at("probs", first), this.at("logits", first), this.at("labels", first), B, CLASSES);
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
    const g = this.region("grads");
    return this.k.count_nonfinite(g.offset, PARAM_LAYOUT.total) === 0;
  }

  /** The parameter tensors whose gradient holds a NaN or Infinity, in PARAMETERS order. */
  nonFiniteGradients(): ParameterName[] {
    return PARAMETERS.filter((p) => this.k.count_nonfinite(this.G[p.name], sizeOf(p.shape)) > 0).map((p) => p.name);
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
    this.k.add_f32(this.region("grads").offset, into.offset, PARAM_LAYOUT.total);
  }

  /** One Adam step with the gradients in the gradient block. */
  applyAdam(adam: AdamConfig = DEFAULT_ADAM): void {
    this.adamSteps++;
    const t = this.adamSteps;
    const alpha = (adam.lr * Math.sqrt(1 - Math.pow(adam.beta2, t))) / (1 - Math.pow(adam.beta1, t));
    const params = this.region("params");
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
   * Live views of the whole parameter and gradient blocks in WASM memory (PARAMETER_BLOCK floats,
   * each tensor 16-byte aligned, in PARAMETERS order). Copy them to keep values; for exchanging
   * weights and gradients between model instances (multi-core training).
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

  /** Live view of the class probabilities of the last batch evaluated (B x 10); copy what you keep. */
  batchProbabilities(B: number): Float32Array {
    const probs = this.region("probs").offset / 4;
    return this.f32.subarray(probs, probs + B * CLASSES);
  }

  /**
   * What the convolutions see in one image: the tanh outputs of c1 (6 x 28 x 28) and c3
   * (16 x 10 x 10), as copies. For plots of feature maps.
   */
  featureMaps(image: Images): { c1: Float32Array; c3: Float32Array } {
    this.setBatch(image, null, 1);
    this.forward(1, 0, false);
    const c1 = this.region("c1").offset / 4, c3 = this.region("c3").offset / 4;
    return { c1: this.f32.slice(c1, c1 + ACT.c1), c3: this.f32.slice(c3, c3 + ACT.c3) };
  }

  /** How many of the last batch's predictions (argmax of probabilities) equal their labels. */
  correctInBatch(B: number, first = 0): number {
    const probs = this.at("probs", first) / 4, labels = this.at("labels", first) / 4;
    let correct = 0;
    for (let b = 0; b < B; b++) {
      if (argmax(this.f32, probs + b * CLASSES, CLASSES) === this.i32[labels + b]) correct++;
    }
    return correct;
  }

  /**
   * Loss and gradients of the batch-mean cross-entropy for `count` images and labels, without
   * changing the weights (for gradient checks and custom optimisers). Returns copies.
   */
  lossAndGradients(images: Images, labels: Uint8Array, count: number): { loss: number; gradients: Weights } {
    this.setBatch(images, labels, count);
    this.zeroGradients();
    const loss = this.accumulateGradients(count, count) / count;
    return { loss, gradients: this.tensors("grads") };
  }

  /**
   * Class probabilities for `count` images (default: all of them), as a new Float32Array of
   * count x 10 values. Images are 28x28, row-major, uint8 0..255 or float in [0,1].
   */
  predict(images: Images, count = Math.floor(images.length / PIXELS)): Float32Array {
    if (count * PIXELS > images.length) throw new RangeError(`predict: ${count} images need ${count * PIXELS} values, got ${images.length}`);
    const out = new Float32Array(count * CLASSES);
    const probs = this.region("probs").offset;
    const chunk = Math.min(this.capacity, INFERENCE_CHUNK);
    for (let start = 0; start < count; start += chunk) {
      const B = Math.min(chunk, count - start);
      this.setBatch(images, null, B, start);
      this.forward(B, 0, false);
      this.k.softmax_fwd(probs, this.region("logits").offset, B, CLASSES);
      out.set(this.f32.subarray(probs / 4, probs / 4 + B * CLASSES), start * CLASSES);
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
