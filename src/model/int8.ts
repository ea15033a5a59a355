// LeNet-5 for inference with int8 weights and activations (post-training quantisation).
// Weights: int8 with one symmetric scale per output channel (real = q * weightScale[oc]). Activations
// feeding each layer: int8 with one scale per tensor, calibrated on training images; the input pixels
// stay uint8 (scale 1/255, exact). Each conv/dense layer sums int8 x int8 products exactly in i32
// (assembly/int8.ts), dequantises to f32 and adds the f32 bias; tanh, pooling and softmax run in f32
// as in the f32 model (the two convolution kernels apply tanh and pooling themselves), tanh as
// tanh_i8_fwd (within 1.4e-5 of tanh, cheaper than the f32 model's), and the result is quantised
// again for the next layer.
import { allocateRegions, type Region } from "../wasm/arena.js";
import { loadKernels, type Kernels, type WasmSource } from "../wasm/kernels.js";
import {
  checkBatchSize, forEachChunk, imageCount, imageNumber, imageStart, labelOf, predictAll, slotInterior, SLOT, stageImages, type Batch, type Classifier, type Images,
} from "./batches.js";
import { C1, C3, CLASSES, convWeight, denseWeight, F5, F6, IMAGE_SIDE, INPUT_SIDE, output, PIXELS, S2, S4, sizeOf } from "./geometry.js";
import type { ParameterName, Weights } from "./lenet.js";

/** The quantised layers: every convolution and dense layer of the article's network. */
export type QuantizedLayerName = "c1" | "c3" | "f5" | "f6" | "out";
const OUT = output(CLASSES);

/** The quantised layers in forward order, with their weight shapes (PyTorch layouts, as in PARAMETERS). */
export const QUANTIZED_LAYERS: readonly { readonly name: QuantizedLayerName; readonly shape: readonly number[] }[] = [
  { name: "c1", shape: convWeight(C1) },
  { name: "c3", shape: convWeight(C3) },
  { name: "f5", shape: denseWeight(F5) },
  { name: "f6", shape: denseWeight(F6) },
  { name: "out", shape: denseWeight(OUT) },
];

/** One layer of a quantised model. Real weight = weight[oc, ...] * weightScale[oc]. */
export interface QuantizedLayer {
  /** Int8 weights in -127..127, PyTorch layout. */
  weight: Int8Array;
  /** One positive scale per output channel. */
  weightScale: Float32Array;
  /** f32, added after dequantisation. */
  bias: Float32Array;
  /** Scale of the layer's int8 input (real = q * inputScale); 1/255 for c1, whose input is the uint8 pixels. */
  inputScale: number;
}

export type QuantizedWeights = Record<QuantizedLayerName, QuantizedLayer>;

/** Largest quantised magnitude: the symmetric range -127..127. */
const QMAX = 127;
/** c1 reads the uint8 pixels themselves: value / 255. */
export const PIXEL_SCALE = Math.fround(1 / 255);

/**
 * Symmetric per-row int8 quantisation of a (rows, n) f32 matrix: scale = max |row| / 127 (1 for an
 * all-zero row), q = round(w / scale). Returns the int8 values and the scales.
 */
export function quantizeRows(w: Float32Array, rows: number): { weight: Int8Array; weightScale: Float32Array } {
  const n = w.length / rows;
  const weight = new Int8Array(w.length), weightScale = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    let max = 0;
    for (let i = r * n; i < (r + 1) * n; i++) max = Math.max(max, Math.abs(w[i]!));
    const scale = (weightScale[r] = max > 0 ? max / QMAX : 1);
    for (let i = r * n; i < (r + 1) * n; i++) weight[i] = Math.max(-QMAX, Math.min(QMAX, Math.round(w[i]! / scale)));
  }
  return { weight, weightScale };
}

/**
 * A conv weight (OC,C,K,K) int8 as conv2d_tanh_pool_rows_i8 (c1) reads it: int16 (OC,C,K,J,2),
 * J = ceil(K/2): each kernel row as pairs of neighbours (kw = 2j, 2j+1), with a 0 for kw = K when K is odd.
 */
export function packConvWeightRows(weight: Int8Array, K: number): Int16Array {
  const J = (K + 1) >> 1, rows = weight.length / K; // rows = OC*C*K kernel rows
  const packed = new Int16Array(rows * J * 2);
  for (let row = 0; row < rows; row++) packed.set(weight.subarray(row * K, (row + 1) * K), row * J * 2);
  return packed;
}

/**
 * A conv weight (OC,C,K,K) int8 as conv2d_tanh_pool_pixels_i8 (c3) reads it: int16 (ceil(C/2),K,K,OC,2),
 * for every channel pair (2j, 2j+1) and tap, each output channel's two weights (a 0 for channel C
 * when C is odd).
 */
export function packConvWeightPixels(weight: Int8Array, C: number, K: number): Int16Array {
  const OC = weight.length / (C * K * K), CP = (C + 1) >> 1;
  const packed = new Int16Array(CP * K * K * OC * 2);
  for (let oc = 0; oc < OC; oc++) {
    for (let c = 0; c < C; c++) {
      for (let t = 0; t < K * K; t++) packed[(((c >> 1) * K * K + t) * OC + oc) * 2 + (c & 1)] = weight[(oc * C + c) * K * K + t]!;
    }
  }
  return packed;
}

/** A conv layer's (OC,C,K,K) int8 weights in the layout of its kernel: c1's rows, c3's pixels (channels in the lanes). */
function packConv(name: QuantizedLayerName, weight: Int8Array): Int16Array {
  return name === "c1" ? packConvWeightRows(weight, C1.K) : packConvWeightPixels(weight, C3.C, C3.K);
}

/** Per-image sizes, in bytes, of the activations (f32: 4 bytes an element; int8 and uint8: 1). */
const ACT = {
  pixels: PIXELS, // a batch's uint8 images as given, staged for pixels_to_slots
  input: SLOT, // uint8 pixels, zero border
  p2f: 4 * S2.out, // c1, tanh and pooled (one kernel), f32
  p2: S2.out, // quantised: c3's input
  p4f: 4 * S4.out, // c3, tanh and pooled
  p4: S4.out, // f5's input
  f5f: 4 * F5.N,
  f5: F5.N,
  f6f: 4 * F6.N,
  f6: F6.N,
  logits: 4 * OUT.N,
  probs: 4 * OUT.N,
  labels: 4,
} as const;
type Activation = keyof typeof ACT;
/** Every region of an int8 model's memory: the activations, the kernels' scratch, each layer's weights, scales and biases. */
type Place = Activation | "scratch" | `${QuantizedLayerName}.${"weight" | "scale" | "bias"}`;

/** The f32 tensor each layer after c1 quantises as its input (what calibration measures). */
const INPUT_OF: Record<Exclude<QuantizedLayerName, "c1">, Activation> = { c3: "p2f", f5: "p4f", f6: "f5f", out: "f6f" };


export interface LeNet5Int8Options {
  /** Largest batch one call processes. Default 32. */
  batchSize?: number;
  /** Where to load the .wasm from, when the default location does not work (bundlers, CDNs). */
  wasm?: WasmSource;
}

/** LeNet-5 with int8 kernels: `predict` like LeNet5's. Make one with quantize() or from a file with create(). */
export class LeNet5Int8 implements Classifier {
  /** Largest batch per call. */
  readonly capacity: number;
  /** Classes it tells apart (the int8 network is the article's, for 10 classes). */
  readonly classes = CLASSES;
  private readonly kernels: Kernels;
  private readonly regions: Record<Place, Region>;
  /** Each region's byte offset, resolved once. */
  private readonly at: Readonly<Record<Place, number>>;
  /** 1 / each quantised layer's input scale: what quantize_i8 multiplies by. */
  private readonly invScale = {} as Record<Exclude<QuantizedLayerName, "c1">, number>;
  private readonly u8: Uint8Array;
  private readonly f32: Float32Array;
  private readonly i32: Int32Array;
  private q: QuantizedWeights;

  /** A model running these quantised weights. */
  static async create(weights: QuantizedWeights, options: LeNet5Int8Options = {}): Promise<LeNet5Int8> {
    return new LeNet5Int8(await loadKernels(options.wasm), options.batchSize ?? 32, weights);
  }

  private constructor(kernels: Kernels, capacity: number, weights: QuantizedWeights) {
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > 65536) throw new RangeError(`batchSize must be an integer in 1..65536, got ${capacity}`);
    this.kernels = kernels;
    this.capacity = capacity;
    const words = (bytes: number) => Math.ceil(bytes / 4); // allocateRegions counts 4-byte elements
    const layers = {} as Record<Exclude<Place, Activation | "scratch">, number>;
    for (const { name, shape } of QUANTIZED_LAYERS) {
      const size = sizeOf(shape);
      layers[`${name}.weight`] = words(shape.length === 4 ? packConv(name, new Int8Array(size)).byteLength : size);
      layers[`${name}.scale`] = shape[0]!;
      layers[`${name}.bias`] = shape[0]!;
    }
    const acts = Object.fromEntries(Object.entries(ACT).map(([name, bytes]) => [name, words(capacity * bytes)])) as Record<Activation, number>;
    const scratch = Math.max(kernels.conv2d_tanh_pool_rows_i8_scratch(C1.C, C1.H, C1.W), kernels.conv2d_tanh_pool_pixels_i8_scratch(C3.C, C3.H, C3.W));
    this.regions = allocateRegions<Place>(kernels.memory, kernels.heap_base(), { ...layers, scratch: words(scratch), ...acts });
    this.at = Object.fromEntries(Object.entries(this.regions).map(([name, r]) => [name, (r as Region).offset])) as Record<Place, number>;
    this.u8 = new Uint8Array(kernels.memory.buffer);
    this.f32 = new Float32Array(kernels.memory.buffer);
    this.i32 = new Int32Array(kernels.memory.buffer);
    this.q = weights;
    this.setWeights(weights);
  }

  /** The quantised weights and scales in use (for saving with encodeInt8Model). */
  get weights(): QuantizedWeights {
    return this.q;
  }

  /** Writes every layer's weights, combined scales (weight scale x input scale) and biases into WASM memory. */
  private setWeights(weights: QuantizedWeights): void {
    for (const { name, shape } of QUANTIZED_LAYERS) {
      const l = weights[name], OC = shape[0]!, size = sizeOf(shape);
      for (const [what, n] of [["weight", size], ["weightScale", OC], ["bias", OC]] as const) {
        if (l[what].length !== n) throw new RangeError(`${name}.${what} needs ${n} values, got ${l[what].length}`);
      }
      if (!(l.inputScale > 0 && Number.isFinite(l.inputScale))) throw new RangeError(`${name}.inputScale must be a positive number, got ${l.inputScale}`);
      const w = this.at[`${name}.weight`];
      if (shape.length === 4) new Int16Array(this.u8.buffer, w, this.regions[`${name}.weight`].length * 2).set(packConv(name, l.weight));
      else new Int8Array(this.u8.buffer, w, size).set(l.weight);
      const scale = this.at[`${name}.scale`] / 4;
      for (let oc = 0; oc < OC; oc++) this.f32[scale + oc] = l.weightScale[oc]! * l.inputScale;
      this.f32.set(l.bias, this.at[`${name}.bias`] / 4);
      if (name !== "c1") this.invScale[name] = 1 / l.inputScale;
    }
    this.q = weights;
  }

  /**
   * Copies a batch into the input region as uint8 pixels (floats in [0,1] are rounded to the
   * nearest 1/255), and its labels if given. An int8 model does not train: no `distort`.
   */
  setBatch(batch: Batch): void {
    const { images, labels, count } = batch;
    checkBatchSize(count, this.capacity);
    if (batch.distort) throw new RangeError("an int8 model does not train: setBatch takes no distort");
    const u8 = this.u8, input = this.at.input, pixels = this.at.pixels, labelAt = this.at.labels / 4;
    // uint8 images are staged as they are and laid into the slots by pixels_to_slots; float images
    // are rounded here, row by row.
    const bytes = images instanceof Uint8Array;
    if (bytes) stageImages(u8, images, batch, pixels);
    for (let i = 0; i < count; i++) {
      const n = imageNumber(batch, i);
      if (!bytes) {
        const src = imageStart(images, n);
        let dst = slotInterior(input, i); // the slot's zero border is never written
        for (let row = 0; row < IMAGE_SIDE; row++, dst += INPUT_SIDE) {
          const s = src + row * IMAGE_SIDE;
          for (let c = 0; c < IMAGE_SIDE; c++) u8[dst + c] = Math.max(0, Math.min(255, Math.round(images[s + c]! * 255)));
        }
      }
      if (labels) this.i32[labelAt + i] = labelOf(labels, n, CLASSES);
    }
    if (bytes) this.kernels.pixels_to_slots(input, pixels, count, IMAGE_SIDE, INPUT_SIDE);
  }

  /** Forward pass over the first `B` images of the batch; leaves the logits in place. */
  private forward(B: number): void {
    const { kernels: k, at, invScale: inv } = this;
    k.conv2d_tanh_pool_rows_i8(at.p2f, at.scratch, at.input, at["c1.weight"], at["c1.scale"], at["c1.bias"], B, C1.C, C1.H, C1.W, C1.OC, C1.K, true);
    k.quantize_i8(at.p2, at.p2f, B * ACT.p2, inv.c3);
    k.conv2d_tanh_pool_pixels_i8(at.p4f, at.scratch, at.p2, at["c3.weight"], at["c3.scale"], at["c3.bias"], B, C3.C, C3.H, C3.W, C3.OC, C3.K);
    k.quantize_i8(at.p4, at.p4f, B * ACT.p4, inv.f5);
    k.dense_fwd_i8(at.f5f, at.p4, at["f5.weight"], at["f5.scale"], at["f5.bias"], B, F5.K, F5.N);
    k.tanh_i8_fwd(at.f5f, at.f5f, B * F5.N);
    k.quantize_i8(at.f5, at.f5f, B * ACT.f5, inv.f6);
    k.dense_fwd_i8(at.f6f, at.f5, at["f6.weight"], at["f6.scale"], at["f6.bias"], B, F6.K, F6.N);
    k.tanh_i8_fwd(at.f6f, at.f6f, B * F6.N);
    k.quantize_i8(at.f6, at.f6f, B * ACT.f6, inv.out);
    k.dense_fwd_i8(at.logits, at.f6, at["out.weight"], at["out.scale"], at["out.bias"], B, OUT.K, OUT.N);
  }

  /** Summed cross-entropy loss of the batch set by setBatch (with labels); batchProbabilities then gives its probabilities. */
  evaluateBatch(B: number): number {
    this.forward(B);
    return this.kernels.softmax_xent_fwd(this.at.probs, this.at.logits, this.at.labels, B, CLASSES);
  }

  /** Live view of the class probabilities of the last batch evaluated (B x 10); copy what you keep. */
  batchProbabilities(B: number): Float32Array {
    const probs = this.at.probs / 4;
    return this.f32.subarray(probs, probs + B * CLASSES);
  }

  /** Class probabilities of the first `B` images of the batch set by setBatch (no labels needed): a live view, as batchProbabilities. */
  predictBatch(B: number): Float32Array {
    this.forward(B);
    this.kernels.softmax_fwd(this.at.probs, this.at.logits, B, CLASSES);
    return this.batchProbabilities(B);
  }

  /**
   * Class probabilities for `count` images (default: all of them), as a new Float32Array of
   * count x 10 values. Images are 28x28, row-major, uint8 0..255 or float in [0,1].
   */
  predict(images: Images, count?: number): Float32Array {
    return predictAll(this, images, imageCount(images, count));
  }

  /**
   * Sets each layer's input scale to the largest |value| its input takes on `count` images, / 127.
   * Layer by layer, through the quantised layers before it, so each scale sees their rounding.
   */
  private calibrate(images: Images, count: number): void {
    const batch: Batch = { images, count: 0, start: 0 };
    for (const layer of Object.keys(INPUT_OF) as (keyof typeof INPUT_OF)[]) {
      const from = this.at[INPUT_OF[layer]] / 4, per = ACT[INPUT_OF[layer]] / 4;
      let max = 0;
      forEachChunk(count, this.capacity, (start, B) => {
        batch.start = start;
        batch.count = B;
        this.setBatch(batch);
        this.forward(B);
        for (let i = from; i < from + B * per; i++) max = Math.max(max, Math.abs(this.f32[i]!));
      });
      this.setWeights({ ...this.q, [layer]: { ...this.q[layer], inputScale: Math.fround(max > 0 ? max / QMAX : 1 / QMAX) } }); // f32, as saved
    }
  }

  /** Quantises f32 weights (per output channel) and calibrates the activation scales; see quantize(). */
  static async quantize(weights: Weights, calibration: Images, options: LeNet5Int8Options = {}): Promise<LeNet5Int8> {
    const count = Math.floor(calibration.length / PIXELS);
    if (count < 1) throw new RangeError("quantize: calibration needs at least one 28x28 image");
    if (weights["f5.weight"] === undefined || weights["out.weight"]?.length !== OUT.N * OUT.K) {
      throw new RangeError("quantize: int8 runs the article's lenet5 network with 10 classes only; these weights are of another network or class count");
    }
    const q = {} as QuantizedWeights;
    for (const { name, shape } of QUANTIZED_LAYERS) {
      const w = weights[`${name}.weight` as ParameterName], b = weights[`${name}.bias` as ParameterName];
      if (w === undefined || b === undefined) throw new RangeError(`quantize: weights lack ${name}.weight or ${name}.bias`);
      // Provisional input scales (tanh outputs lie in [-1, 1]) until calibration measures them.
      q[name] = { ...quantizeRows(w, shape[0]!), bias: Float32Array.from(b), inputScale: name === "c1" ? PIXEL_SCALE : Math.fround(1 / QMAX) };
    }
    const model = await LeNet5Int8.create(q, options);
    model.calibrate(calibration, count);
    return model;
  }
}

/**
 * Post-training int8 quantisation of LeNet-5 weights (from `model.getWeights()` or decodeModel):
 * per-output-channel weight scales, and activation scales calibrated on `calibration`, 28x28
 * images from the TRAINING set (never the test set you measure on). A thousand are plenty.
 */
export function quantize(weights: Weights, calibration: Images, options: LeNet5Int8Options = {}): Promise<LeNet5Int8> {
  return LeNet5Int8.quantize(weights, calibration, options);
}
