// The networks lenet-wasm trains, each as data (parameters, activation sizes, input scaling) and two
// flat lists of kernel calls (forward, backward). src/lenet.ts plans their memory and runs them.
//
// - "lenet5": the reference article's Keras model (the default).
// - "lenet5-1998": the network of LeCun, Bottou, Bengio and Haffner (1998), "Gradient-Based Learning
//   Applied to Document Recognition", section II.B and appendix A.
import type { Rng } from "./rng.js";
import type { Kernels } from "../wasm/kernels.js";

export type ArchitectureName = "lenet5" | "lenet5-1998" | "lenet5-1998-softmax";
export const ARCHITECTURE_NAMES: readonly ArchitectureName[] = ["lenet5", "lenet5-1998", "lenet5-1998-softmax"];

/** One parameter tensor: its PyTorch state_dict name and shape. */
export interface ParameterSpec {
  readonly name: string;
  readonly shape: readonly number[];
}

/** Offsets a network's kernel calls use; all are byte offsets into WASM memory. */
export interface Net {
  readonly k: Kernels;
  /** Parameter tensor `name`, and its gradient. */
  param(name: string): number;
  grad(name: string): number;
  /** Image `first` of the batch in activation region `name`. */
  act(name: string, first: number): number;
  /** A region that is not per image (scratch space, constants). */
  fixed(name: string): number;
}

export interface Architecture {
  readonly name: ArchitectureName;
  /** One line for logs: what the network is. */
  readonly title: string;
  readonly parameters: readonly ParameterSpec[];
  /** Trainable values (fixed zeros outside C3's connection table do not count). */
  readonly trainableCount: number;
  /** Floats per image of each activation region (including "input", "logits", "probs", "labels" excluded). */
  readonly activations: Readonly<Record<string, number>>;
  /** Regions that are not per image: scratch (overwritten before it is read) and constants (filled once). */
  readonly scratch: Readonly<Record<string, number>>;
  readonly constants: Readonly<Record<string, Float32Array>>;
  /** Pixel 0 maps to `low`, 255 to `high`; the 2-pixel border around the 28x28 image is `low`. */
  readonly input: { readonly low: number; readonly high: number };
  /** Classes it tells apart (10 unless made for another number by architecture()). */
  readonly classes: number;
  /** Logits per image: one score per class, and for the 1998 network the constant "rubbish" unit. */
  readonly logitsPerImage: number;
  /** Fresh parameter values from `rng` (biases 0), in `parameters` order. */
  initialize(rng: Rng): Record<string, Float32Array>;
  /**
   * Forward pass over B images from `first`: input -> logits. `training` keeps what backward reads
   * (conv patches, the activations); without it only the logits are sure to be written (inference
   * may fuse layers: the article's network never stores c1 or c3 then).
   */
  forward(net: Net, B: number, first: number, training: boolean): void;
  /**
   * Backward pass from dlogits (already set) to every parameter gradient, which ACCUMULATES: each
   * kernel adds its whole sum once, so shards processed one after another add their partial sums in order.
   */
  backward(net: Net, B: number, first: number): void;
}

/** Classes of MNIST and Fashion-MNIST: the networks' default. */
export const CLASSES = 10;
/** Most classes a network can be made for (`architecture(name, classes)`): labels are uint8. */
export const MAX_CLASSES = 256;
const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

// ---------------------------------------------------------------------------------------------
// The article's LeNet-5 (Keras): 28x28x1 in [0,1] -> conv 6@5x5 'same' tanh -> avgpool 2x2 -> conv
// 16@5x5 'valid' tanh -> avgpool 2x2 -> flatten 400 (C,H,W) -> dense 120 tanh -> dense 84 tanh ->
// dense 10 softmax. 'same' padding of the first conv = 'valid' on the zero-bordered 32x32 input.

const articleParameters = (classes: number): readonly ParameterSpec[] => [
  { name: "c1.weight", shape: [6, 1, 5, 5] },
  { name: "c1.bias", shape: [6] },
  { name: "c3.weight", shape: [16, 6, 5, 5] },
  { name: "c3.bias", shape: [16] },
  { name: "f5.weight", shape: [120, 400] },
  { name: "f5.bias", shape: [120] },
  { name: "f6.weight", shape: [84, 120] },
  { name: "f6.bias", shape: [84] },
  { name: "out.weight", shape: [classes, 84] },
  { name: "out.bias", shape: [classes] },
];

/** Glorot-uniform weights (Keras's default), zero biases. */
function glorot(parameters: readonly ParameterSpec[], rng: Rng): Record<string, Float32Array> {
  const w: Record<string, Float32Array> = {};
  for (const p of parameters) {
    const data = (w[p.name] = new Float32Array(sizeOf(p.shape)));
    if (p.shape.length === 1) continue;
    const receptive = sizeOf(p.shape.slice(2));
    const limit = Math.sqrt(6 / (p.shape[1]! * receptive + p.shape[0]! * receptive));
    for (let i = 0; i < data.length; i++) data[i] = (2 * rng.next() - 1) * limit;
  }
  return w;
}

/** A convolution's shape: input (C,H,W), OC output channels of KxK kernels ('valid'). */
interface ConvShape { readonly C: number; readonly H: number; readonly W: number; readonly OC: number; readonly K: number }
const C1: ConvShape = { C: 1, H: 32, W: 32, OC: 6, K: 5 };
const C3: ConvShape = { C: 6, H: 14, W: 14, OC: 16, K: 5 };

/**
 * out = conv(inp) over B images. Training runs im2col + GEMM and keeps the patches in `col` for the
 * filter gradient. Inference reads the input directly, with the lanes along output rows when they
 * are a multiple of 4 wide (c1), else across output channels when those are (c3; the weights
 * transposed into the scratch `weightT` first), else as training does. The same bits either way.
 */
function convolve(k: Kernels, training: boolean, s: ConvShape, B: number,
  out: number, inp: number, weight: number, bias: number, col: number, weightT: number): void {
  const { C, H, W, OC, K } = s;
  if (training) {
    k.conv2d_fwd(out, col, inp, weight, bias, B, C, H, W, OC, K, true);
  } else if ((W - K + 1) % 4 === 0) {
    k.conv2d_fwd_rows(out, inp, weight, bias, B, C, H, W, OC, K);
  } else if (OC % 4 === 0) {
    k.conv2d_weight_t(weightT, weight, OC, C * K * K);
    k.conv2d_fwd_pixels(out, inp, weightT, bias, B, C, H, W, OC, K);
  } else {
    k.conv2d_fwd(out, col, inp, weight, bias, B, C, H, W, OC, K, false);
  }
}

/** The article's network with `classes` outputs. */
function articleNetwork(classes: number): Architecture {
  const parameters = articleParameters(classes);
  return {
    name: "lenet5",
    title: "LeNet-5 (the article's Keras model)",
    parameters,
    trainableCount: parameters.reduce((n, p) => n + sizeOf(p.shape), 0),
    activations: {
      input: 32 * 32, // (1,32,32), zero border
      col1: 25 * 28 * 28, // c1's unrolled input patches (im2col), kept for its filter gradient
      c1: 6 * 28 * 28, // conv c1 then tanh, in place
      col3: 150 * 10 * 10, // c3's unrolled input patches
      p2: 6 * 14 * 14,
      c3: 16 * 10 * 10, // conv c3 then tanh, in place
      p4: 16 * 5 * 5, // = flatten (400), channel-major like PyTorch
      f5: 120,
      f6: 84,
      logits: classes,
      probs: classes,
      // gradients w.r.t. the activations, in backward order
      dlogits: classes,
      df6: 84,
      df5: 120,
      dp4: 16 * 5 * 5,
      dc3: 16 * 10 * 10,
      dp2: 6 * 14 * 14,
      dc1: 6 * 28 * 28,
    },
    // one image's patch gradients (conv2d_bwd_input), c3's weights transposed (inference)
    scratch: { dcol3: 150 * 10 * 10, c3T: 150 * 16 },
    constants: {},
    input: { low: 0, high: 1 },
    classes,
    logitsPerImage: classes,
    initialize: (rng) => glorot(parameters, rng),

    forward({ k, param: P, act, fixed }, B, first, training) {
      const o = (name: string): number => act(name, first);
      if (training) { // the activations backward needs: patches (col), c1 and c3 after tanh
        k.conv2d_fwd(o("c1"), o("col1"), o("input"), P("c1.weight"), P("c1.bias"), B, 1, 32, 32, 6, 5, true);
        k.tanh_fwd(o("c1"), o("c1"), B * 6 * 28 * 28);
        k.avgpool2d_fwd(o("p2"), o("c1"), B, 6, 28, 28);
        k.conv2d_fwd(o("c3"), o("col3"), o("p2"), P("c3.weight"), P("c3.bias"), B, 6, 14, 14, 16, 5, true);
        k.tanh_fwd(o("c3"), o("c3"), B * 16 * 10 * 10);
        k.avgpool2d_fwd(o("p4"), o("c3"), B, 16, 10, 10);
      } else { // each convolution, its tanh and its pooling in one pass: c1 and c3 are not stored
        k.conv2d_tanh_pool_rows(o("p2"), o("input"), P("c1.weight"), P("c1.bias"), B, 1, 32, 32, 6, 5);
        k.conv2d_weight_t(fixed("c3T"), P("c3.weight"), 16, 150);
        k.conv2d_tanh_pool_pixels(o("p4"), o("p2"), fixed("c3T"), P("c3.bias"), B, 6, 14, 14, 16, 5);
      }
      k.dense_fwd(o("f5"), o("p4"), P("f5.weight"), P("f5.bias"), B, 400, 120);
      k.tanh_fwd(o("f5"), o("f5"), B * 120);
      k.dense_fwd(o("f6"), o("f5"), P("f6.weight"), P("f6.bias"), B, 120, 84);
      k.tanh_fwd(o("f6"), o("f6"), B * 84);
      k.dense_fwd(o("logits"), o("f6"), P("out.weight"), P("out.bias"), B, 84, classes);
    },

    backward({ k, param: P, grad: G, act, fixed }, B, first) {
      const o = (name: string): number => act(name, first);
      k.dense_bwd_weight(G("out.weight"), G("out.bias"), o("dlogits"), o("f6"), B, 84, classes);
      k.dense_bwd_input(o("df6"), o("dlogits"), P("out.weight"), B, 84, classes);
      k.tanh_bwd(o("df6"), o("df6"), o("f6"), B * 84);
      k.dense_bwd_weight(G("f6.weight"), G("f6.bias"), o("df6"), o("f5"), B, 120, 84);
      k.dense_bwd_input(o("df5"), o("df6"), P("f6.weight"), B, 120, 84);
      k.tanh_bwd(o("df5"), o("df5"), o("f5"), B * 120);
      k.dense_bwd_weight(G("f5.weight"), G("f5.bias"), o("df5"), o("p4"), B, 400, 120);
      k.dense_bwd_input(o("dp4"), o("df5"), P("f5.weight"), B, 400, 120);
      k.avgpool2d_bwd(o("dc3"), o("dp4"), B, 16, 10, 10);
      k.tanh_bwd(o("dc3"), o("dc3"), o("c3"), B * 16 * 10 * 10);
      k.conv2d_bwd_filter(G("c3.weight"), G("c3.bias"), o("dc3"), o("col3"), B, 6, 14, 14, 16, 5);
      k.conv2d_bwd_input(o("dp2"), fixed("dcol3"), o("dc3"), P("c3.weight"), B, 6, 14, 14, 16, 5);
      k.avgpool2d_bwd(o("dc1"), o("dp2"), B, 6, 28, 28);
      k.tanh_bwd(o("dc1"), o("dc1"), o("c1"), B * 6 * 28 * 28);
      k.conv2d_bwd_filter(G("c1.weight"), G("c1.bias"), o("dc1"), o("col1"), B, 1, 32, 32, 6, 5);
    },
  };
}

export const LENET5 = articleNetwork(CLASSES);

// ---------------------------------------------------------------------------------------------
// The 1998 LeNet-5: 32x32 input (background -0.1, foreground 1.175) -> C1 conv 6@5x5 -> S2 trainable
// subsampling -> C3 conv 16@5x5 through Table I's connection table (60 of 96 map pairs) -> S4 ->
// C5 conv 120@5x5 (on a 5x5 input: a dense layer) -> F6 84 -> Euclidean RBF units with fixed +-1
// codes and the MAP loss. Every layer but the RBF is followed by f(a) = 1.7159 tanh(2a/3).
// "lenet5-1998-softmax" is the same network with a dense 84 -> 10 softmax output instead of the RBF units.

/** The squashing function f(a) = A tanh(S a) (appendix A; assembly/activation.ts has the same constants). */
export const SQUASH = { A: 1.7159, S: 2 / 3 } as const;

/** Table I: which S2 maps (rows) each C3 map (columns) reads. */
const C3_TABLE = [
  "X...XXX..XXXX.XX",
  "XX...XXX..XXXX.X",
  "XXX...XXX..X.XXX",
  ".XXX..XXXX..X.XX",
  "..XXX..XXXX.XX.X",
  "...XXX..XXXX.XXX",
];

/** C3's weight mask (16,6,5,5): 1 where Table I connects the maps, else 0. */
export const C3_MASK = Float32Array.from({ length: 16 * 6 * 25 }, (_, i) => (C3_TABLE[Math.floor(i / 25) % 6]![Math.floor(i / 150)] === "X" ? 1 : 0));

/**
 * The RBF units' codes: a 7x12 bitmap of each digit, +1 ink and -1 background (the paper draws its
 * codes as stylised 7x12 characters, figure 3; it does not publish them, so these are ours).
 */
const DIGIT_BITMAPS = [
  [".XXXXX.", "XX...XX", "XX...XX", "XX..XXX", "XX.X.XX", "XX.X.XX", "XXX..XX", "XX...XX", "XX...XX", "XX...XX", ".XXXXX.", "......."],
  ["...XX..", "..XXX..", ".XXXX..", "...XX..", "...XX..", "...XX..", "...XX..", "...XX..", "...XX..", "...XX..", ".XXXXXX", "......."],
  [".XXXXX.", "XX...XX", ".....XX", ".....XX", "....XX.", "...XX..", "..XX...", ".XX....", "XX.....", "XX.....", "XXXXXXX", "......."],
  [".XXXXX.", "XX...XX", ".....XX", ".....XX", "..XXXX.", ".....XX", ".....XX", ".....XX", ".....XX", "XX...XX", ".XXXXX.", "......."],
  ["....XX.", "...XXX.", "..XXXX.", ".XX.XX.", "XX..XX.", "XXXXXXX", "....XX.", "....XX.", "....XX.", "....XX.", "....XX.", "......."],
  ["XXXXXXX", "XX.....", "XX.....", "XXXXXX.", ".....XX", ".....XX", ".....XX", ".....XX", ".....XX", "XX...XX", ".XXXXX.", "......."],
  ["..XXXX.", ".XX....", "XX.....", "XX.....", "XXXXXX.", "XX...XX", "XX...XX", "XX...XX", "XX...XX", "XX...XX", ".XXXXX.", "......."],
  ["XXXXXXX", ".....XX", ".....XX", "....XX.", "....XX.", "...XX..", "...XX..", "..XX...", "..XX...", "..XX...", "..XX...", "......."],
  [".XXXXX.", "XX...XX", "XX...XX", "XX...XX", ".XXXXX.", "XX...XX", "XX...XX", "XX...XX", "XX...XX", "XX...XX", ".XXXXX.", "......."],
  [".XXXXX.", "XX...XX", "XX...XX", "XX...XX", "XX...XX", ".XXXXXX", ".....XX", ".....XX", ".....XX", "....XX.", ".XXXX..", "......."],
];
export const RBF_CODES = Float32Array.from(DIGIT_BITMAPS.flatMap((rows) => [...rows.join("")].map((c) => (c === "X" ? 1 : -1))));

/**
 * The constant j of the MAP loss, E = y_D + log(exp(-j) + sum_i exp(-y_i)) (paper eq. 9): the penalty
 * of a "rubbish" class. Squared distances below about j cost little, so it sets how close F6 must
 * come to the right code. Chosen on the validation split: 99.16% with j = 3 against 99.06% with j = 10
 * (--recipe paper, seed 1; j = 30 learned more slowly).
 */
export const RBF_RUBBISH = 3;

const PAPER_PARAMETERS = [
  { name: "c1.weight", shape: [6, 1, 5, 5] },
  { name: "c1.bias", shape: [6] },
  { name: "s2.weight", shape: [6] },
  { name: "s2.bias", shape: [6] },
  { name: "c3.weight", shape: [16, 6, 5, 5] },
  { name: "c3.bias", shape: [16] },
  { name: "s4.weight", shape: [16] },
  { name: "s4.bias", shape: [16] },
  { name: "c5.weight", shape: [120, 16, 5, 5] },
  { name: "c5.bias", shape: [120] },
  { name: "f6.weight", shape: [84, 120] },
  { name: "f6.bias", shape: [84] },
] as const;
const softmaxOutput = (classes: number): readonly ParameterSpec[] => [{ name: "out.weight", shape: [classes, 84] }, { name: "out.bias", shape: [classes] }];

/** Inputs of each C3 map: 25 per S2 map that Table I connects it to. */
const C3_FAN_IN = Array.from({ length: 16 }, (_, m) => C3_MASK.subarray(m * 150, (m + 1) * 150).reduce((a, b) => a + b, 0));

/** Fan-in of each weight of a tensor: inputs of the unit it feeds (C3: 25 per connected S2 map). */
function paperFanIn(name: string, index: number): number {
  switch (name) {
    case "c1.weight": return 25;
    case "s2.weight": case "s4.weight": return 4;
    case "c3.weight": return C3_FAN_IN[Math.floor(index / 150)]!;
    case "c5.weight": return 400;
    case "f6.weight": return 120;
    default: return 84; // out.weight (the softmax output)
  }
}

/** The 1998 network with the paper's RBF output (10 classes), or with a softmax output layer of `classes`. */
function paperNetwork(output: "rbf" | "softmax", classes = CLASSES): Architecture {
  const rbf = output === "rbf";
  const parameters: readonly ParameterSpec[] = rbf ? PAPER_PARAMETERS : [...PAPER_PARAMETERS, ...softmaxOutput(classes)];
  const logits = rbf ? CLASSES + 1 : classes;
  return {
    name: rbf ? "lenet5-1998" : "lenet5-1998-softmax",
    title: rbf ? "LeNet-5 as in LeCun et al. 1998" : "LeNet-5 as in LeCun et al. 1998, softmax output",
    parameters,
    // C3: 60 connected map pairs of 25 weights, not 96.
    trainableCount: parameters.reduce((n, p) => n + sizeOf(p.shape), 0) - 36 * 25,
    activations: {
      input: 32 * 32,
      col1: 25 * 28 * 28,
      c1: 6 * 28 * 28, // conv then squash, in place (likewise below)
      s2: 6 * 14 * 14,
      col3: 150 * 10 * 10,
      c3: 16 * 10 * 10,
      s4: 16 * 5 * 5,
      c5: 120,
      f6: 84,
      logits, // RBF: -squared distance to each code, then -j
      probs: logits,
      dlogits: logits,
      df6: 84,
      dc5: 120,
      ds4: 16 * 5 * 5,
      dc3: 16 * 10 * 10,
      ds2: 6 * 14 * 14,
      dc1: 6 * 28 * 28,
    },
    scratch: { dcol3: 150 * 10 * 10, c3T: 150 * 16 },
    constants: rbf ? { c3Mask: C3_MASK, codes: RBF_CODES } : { c3Mask: C3_MASK },
    // The paper: "the value of the background (white) corresponds to -0.1 and the foreground (black)
    // corresponds to 1.175. This makes the mean input roughly 0, and the variance roughly 1."
    input: { low: -0.1, high: 1.175 },
    classes,
    logitsPerImage: logits,

    /** The paper's appendix A: weights uniform in +-2.4 / fan-in, biases 0. */
    initialize(rng) {
      const w: Record<string, Float32Array> = {};
      for (const p of parameters) {
        const data = (w[p.name] = new Float32Array(sizeOf(p.shape)));
        if (p.name.endsWith(".bias")) continue;
        for (let i = 0; i < data.length; i++) data[i] = (2 * rng.next() - 1) * (2.4 / paperFanIn(p.name, i));
        if (p.name === "c3.weight") for (let i = 0; i < data.length; i++) data[i]! *= C3_MASK[i]!;
      }
      return w;
    },

    forward({ k, param: P, act, fixed }, B, first, training) {
      const o = (name: string): number => act(name, first);
      convolve(k, training, C1, B, o("c1"), o("input"), P("c1.weight"), P("c1.bias"), o("col1"), 0);
      k.squash_fwd(o("c1"), o("c1"), B * 6 * 28 * 28);
      k.subsample2d_fwd(o("s2"), o("c1"), P("s2.weight"), P("s2.bias"), B, 6, 28, 28);
      k.squash_fwd(o("s2"), o("s2"), B * 6 * 14 * 14);
      convolve(k, training, C3, B, o("c3"), o("s2"), P("c3.weight"), P("c3.bias"), o("col3"), fixed("c3T"));
      k.squash_fwd(o("c3"), o("c3"), B * 16 * 10 * 10);
      k.subsample2d_fwd(o("s4"), o("c3"), P("s4.weight"), P("s4.bias"), B, 16, 10, 10);
      k.squash_fwd(o("s4"), o("s4"), B * 16 * 5 * 5);
      k.dense_fwd(o("c5"), o("s4"), P("c5.weight"), P("c5.bias"), B, 400, 120);
      k.squash_fwd(o("c5"), o("c5"), B * 120);
      k.dense_fwd(o("f6"), o("c5"), P("f6.weight"), P("f6.bias"), B, 120, 84);
      k.squash_fwd(o("f6"), o("f6"), B * 84);
      if (rbf) k.rbf_fwd(o("logits"), o("f6"), fixed("codes"), B, 84, CLASSES, RBF_RUBBISH);
      else k.dense_fwd(o("logits"), o("f6"), P("out.weight"), P("out.bias"), B, 84, classes);
    },

    backward({ k, param: P, grad: G, act, fixed }, B, first) {
      const o = (name: string): number => act(name, first);
      if (rbf) k.rbf_bwd_input(o("df6"), o("dlogits"), o("f6"), fixed("codes"), B, 84, CLASSES);
      else {
        k.dense_bwd_weight(G("out.weight"), G("out.bias"), o("dlogits"), o("f6"), B, 84, classes);
        k.dense_bwd_input(o("df6"), o("dlogits"), P("out.weight"), B, 84, classes);
      }
      k.squash_bwd(o("df6"), o("df6"), o("f6"), B * 84);
      k.dense_bwd_weight(G("f6.weight"), G("f6.bias"), o("df6"), o("c5"), B, 120, 84);
      k.dense_bwd_input(o("dc5"), o("df6"), P("f6.weight"), B, 120, 84);
      k.squash_bwd(o("dc5"), o("dc5"), o("c5"), B * 120);
      k.dense_bwd_weight(G("c5.weight"), G("c5.bias"), o("dc5"), o("s4"), B, 400, 120);
      k.dense_bwd_input(o("ds4"), o("dc5"), P("c5.weight"), B, 400, 120);
      k.squash_bwd(o("ds4"), o("ds4"), o("s4"), B * 16 * 5 * 5);
      k.subsample2d_bwd(o("dc3"), G("s4.weight"), G("s4.bias"), o("ds4"), o("c3"), P("s4.weight"), B, 16, 10, 10);
      k.squash_bwd(o("dc3"), o("dc3"), o("c3"), B * 16 * 10 * 10);
      k.conv2d_bwd_filter(G("c3.weight"), G("c3.bias"), o("dc3"), o("col3"), B, 6, 14, 14, 16, 5);
      k.mul_f32(G("c3.weight"), fixed("c3Mask"), 16 * 6 * 25); // no gradient outside the connection table
      k.conv2d_bwd_input(o("ds2"), fixed("dcol3"), o("dc3"), P("c3.weight"), B, 6, 14, 14, 16, 5);
      k.squash_bwd(o("ds2"), o("ds2"), o("s2"), B * 6 * 14 * 14);
      k.subsample2d_bwd(o("dc1"), G("s2.weight"), G("s2.bias"), o("ds2"), o("c1"), P("s2.weight"), B, 6, 28, 28);
      k.squash_bwd(o("dc1"), o("dc1"), o("c1"), B * 6 * 28 * 28);
      k.conv2d_bwd_filter(G("c1.weight"), G("c1.bias"), o("dc1"), o("col1"), B, 1, 32, 32, 6, 5);
    },
  };
}

export const LENET5_1998 = paperNetwork("rbf");
export const LENET5_1998_SOFTMAX = paperNetwork("softmax");

export const ARCHITECTURES: Readonly<Record<ArchitectureName, Architecture>> = {
  "lenet5": LENET5, "lenet5-1998": LENET5_1998, "lenet5-1998-softmax": LENET5_1998_SOFTMAX,
};

/**
 * Network `name` made for `classes` classes (2..MAX_CLASSES; the output layer has one unit per class).
 * The 1998 network's RBF output has codes for the 10 digits only.
 * @throws RangeError for a number of classes the network cannot have
 */
export function architecture(name: ArchitectureName, classes = CLASSES): Architecture {
  if (!Number.isInteger(classes) || classes < 2 || classes > MAX_CLASSES) throw new RangeError(`classes must be an integer in 2..${MAX_CLASSES}, got ${classes}`);
  const arch = ARCHITECTURES[name];
  if (arch === undefined) throw new RangeError(`the network must be one of ${ARCHITECTURE_NAMES.join(", ")}, got ${JSON.stringify(name)}`);
  if (classes === CLASSES) return arch;
  if (name === "lenet5-1998") throw new RangeError(`lenet5-1998's RBF output has codes for the 10 digits only; for ${classes} classes use lenet5-1998-softmax or lenet5`);
  return name === "lenet5" ? articleNetwork(classes) : paperNetwork("softmax", classes);
}
