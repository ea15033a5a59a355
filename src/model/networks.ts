// The networks lenet-wasm trains, each described once: its parameters, its activations (per-image
// sizes), its input scaling, and its forward and backward passes as flat lists of kernel calls.
// Every size comes from geometry.ts. model/lenet.ts plans the memory and binds the passes to it.
//
// - "lenet5": the reference article's Keras model (the default).
// - "lenet5-1998": the network of LeCun, Bottou, Bengio and Haffner (1998), "Gradient-Based Learning
//   Applied to Document Recognition", section II.B and appendix A.
import type { Kernels } from "../wasm/kernels.js";
import { C1, C3, CLASSES, convWeight, denseWeight, F5, F6, INPUT_SIDE, MAX_CLASSES, output, S2, S4, sizeOf, type Conv } from "./geometry.js";
import { OptionError } from "./option-error.js";
import type { Rng } from "./rng.js";

export type ArchitectureName = "lenet5" | "lenet5-1998" | "lenet5-1998-softmax";
export const ARCHITECTURE_NAMES: readonly ArchitectureName[] = ["lenet5", "lenet5-1998", "lenet5-1998-softmax"];

/** One parameter tensor: its PyTorch state_dict name and shape. */
export interface ParameterSpec {
  readonly name: string;
  readonly shape: readonly number[];
}

/**
 * Where a model placed a network's tensors in WASM memory: byte offsets, asked for once, when
 * the model binds the network (Architecture.bind), never per kernel call.
 */
export interface Placement {
  readonly k: Kernels;
  /** Parameter tensor `name`, and its gradient. */
  param(name: string): number;
  grad(name: string): number;
  /** Activation region `name`: the offset of image `first` of the batch in it. */
  act(name: string): (first: number) => number;
  /** A region that is not per image (scratch space, constants). */
  fixed(name: string): number;
}

/** One layer's output, as LeNet5.activations returns it: an activation region and its shape. */
export interface LayerSpec {
  /** The activation region's name (a parameter prefix where the layer has weights: "c1", "f5"). */
  readonly name: string;
  /** Per image: [channels, height, width] for the input and feature maps, [units] for the rest. */
  readonly shape: readonly number[];
}

/** A network's passes over one model's memory. */
export interface Passes {
  /**
   * Forward pass over B images from `first`: input -> logits. `store` writes every activation; without
   * it only the logits are sure to be written (inference may fuse layers: the article's network never
   * stores c1 or c3 then).
   */
  forward(B: number, first: number, store: boolean): void;
  /**
   * Backward pass from dlogits (already set) to every parameter gradient, which ACCUMULATES: each
   * kernel adds its whole sum once, so shards processed one after another add their partial sums in order.
   */
  backward(B: number, first: number, denseWeights?: boolean): void;
}

/**
 * A dense layer's weight and bias gradient (dense_bwd_weight, `K` inputs, `N` units): its gradient
 * tensors and the two activation regions it reads, which no later kernel of the backward pass
 * changes. A training worker leaves these gradients out and hands over what they read instead: for
 * 8 images (400 + 120) x 8 floats rather than f5's 48,120 (model/lenet.ts exportShardGradient).
 */
export interface DenseGradient {
  readonly weight: string;
  readonly bias: string;
  readonly dout: string;
  readonly inp: string;
  readonly K: number;
  readonly N: number;
}

/** A DenseGradient placed in one model's memory: gradient byte offsets, and its regions' offsets per first image. */
export interface PlacedDenseGradient {
  readonly weight: number;
  readonly bias: number;
  readonly dout: (first: number) => number;
  readonly inp: (first: number) => number;
  readonly K: number;
  readonly N: number;
}

export function placeDenseGradient(d: DenseGradient, placement: Placement): PlacedDenseGradient {
  return { weight: placement.grad(d.weight), bias: placement.grad(d.bias), dout: placement.act(d.dout), inp: placement.act(d.inp), K: d.K, N: d.N };
}

/** Adds a dense layer's weight and bias gradient over B images whose dout and inp are at these byte offsets. */
export function denseWeightGradient(k: Kernels, d: PlacedDenseGradient, B: number, dout: number, inp: number): void {
  k.dense_bwd_weight(d.weight, d.bias, dout, inp, B, d.K, d.N);
}

export interface Architecture {
  readonly name: ArchitectureName;
  /** One line for logs: what the network is. */
  readonly title: string;
  readonly parameters: readonly ParameterSpec[];
  /** Trainable values (fixed zeros outside C3's connection table do not count). */
  readonly trainableCount: number;
  /** Floats per image of each activation region ("input" first; "logits", "probs", "dlogits" among them). */
  readonly activations: Readonly<Record<string, number>>;
  /** The layers a person looks at, input to class probabilities, in order (LeNet5.activations). */
  readonly layers: readonly LayerSpec[];
  /** Regions that are not per image: scratch (overwritten before it is read) and constants (filled once). */
  readonly scratch: Readonly<Record<string, number>>;
  readonly constants: Readonly<Record<string, Float32Array>>;
  /**
   * The dense layers' weight gradients, in the order backward makes them (a worker hands over what they read).
   * @internal
   */
  readonly dense: readonly DenseGradient[];
  /** Pixel 0 maps to `low`, 255 to `high`; the 2-pixel border around the 28x28 image is `low`. */
  readonly input: { readonly low: number; readonly high: number };
  /** Classes it tells apart (10 unless made for another number by architecture()). */
  readonly classes: number;
  /** Logits per image: one score per class, and for the 1998 network the constant "rubbish" unit. */
  readonly logitsPerImage: number;
  /**
   * Fresh parameter values from `rng` (biases 0), in `parameters` order (LeNet5 calls it; users pass a seed).
   * @internal
   */
  initialize(rng: Rng): Record<string, Float32Array>;
  /**
   * The passes over the tensors of `placement`, their offsets resolved once (LeNet5 calls it).
   * @internal
   */
  bind(placement: Placement): Passes;
}

export { CLASSES, MAX_CLASSES };

/** Floats per image of the input: one 32x32 field (a 28x28 image in a 2-pixel border). */
const INPUT = INPUT_SIDE * INPUT_SIDE;

const convParameters = (name: string, c: Conv): ParameterSpec[] => [{ name: `${name}.weight`, shape: convWeight(c) }, { name: `${name}.bias`, shape: [c.OC] }];
const denseParameters = (name: string, d: { K: number; N: number }): ParameterSpec[] => [{ name: `${name}.weight`, shape: denseWeight(d) }, { name: `${name}.bias`, shape: [d.N] }];

/**
 * Both networks' layers in order, named as each names its two poolings and its 120 units: input
 * field, c1, pool, c3, pool, 120, f6, the logits and the class probabilities.
 */
const layerSpecs = ([pool1, pool2, units]: readonly [string, string, string], logits: number, classes: number): LayerSpec[] => [
  { name: "input", shape: [1, INPUT_SIDE, INPUT_SIDE] },
  { name: "c1", shape: [C1.OC, C1.OH, C1.OW] },
  { name: pool1, shape: [S2.C, S2.OH, S2.OW] },
  { name: "c3", shape: [C3.OC, C3.OH, C3.OW] },
  { name: pool2, shape: [S4.C, S4.OH, S4.OW] },
  { name: units, shape: [F5.N] },
  { name: "f6", shape: [F6.N] },
  { name: "logits", shape: [logits] },
  { name: "probs", shape: [classes] },
];

/**
 * out = conv(inp) over B images, read directly from the input: with the lanes along output rows when
 * they are a multiple of 4 wide (c1), else across output channels (c3's 16; the weights transposed
 * into the scratch `weightT` first). The same bits either way, and as conv2d_fwd's im2col + GEMM.
 */
function convolve(k: Kernels, c: Conv, B: number, out: number, inp: number, weight: number, bias: number, weightT: number): void {
  if (c.OW % 4 === 0) return k.conv2d_fwd_rows(out, inp, weight, bias, B, c.C, c.H, c.W, c.OC, c.K);
  if (c.OC % 4 !== 0) throw new Error(`no direct convolution kernel for ${c.OC} channels of ${c.OH}x${c.OW}`);
  k.conv2d_weight_t(weightT, weight, c.OC, c.patch);
  k.conv2d_fwd_pixels(out, inp, weightT, bias, B, c.C, c.H, c.W, c.OC, c.K);
}

/**
 * conv2d_bwd_input's scratch in floats, assembly/conv2d.ts's conv2d_bwd_input_scratch (a test checks
 * they agree): lane masks, then one image's patch gradients with room after them.
 */
function bwdInputScratch(c: Conv): number {
  const groups = Math.ceil(c.W / 16);
  return groups * c.K * 16 + c.patch * c.OH * c.OW + 16 * groups - c.W;
}

/**
 * Both networks' scratch (floats): conv2d_bwd_input's (lane masks, one image's patch gradients), c3's weights
 * transposed (the direct kernel), and the weight gradients' sums between images, 4 lanes per weight:
 * c1's (conv2d_bwd_weight_rows) and c3's (conv2d_bwd_weight_packed, in blocks of 2 output channels x
 * 4 patch rows, beside one image's patches packed 4 rows at a time).
 */
const CONV_SCRATCH = {
  dcol3: bwdInputScratch(C3),
  c3T: C3.patch * C3.OC,
  dw1: 4 * C1.OC * C1.patch,
  dw3: 32 * Math.ceil(C3.OC / 2) * Math.ceil(C3.patch / 4),
  patches3: 4 * Math.ceil(C3.patch / 4) * C3.OH * C3.OW,
} as const;

// ---------------------------------------------------------------------------------------------
// The article's LeNet-5 (Keras): 28x28x1 in [0,1] -> conv 6@5x5 'same' tanh -> avgpool 2x2 -> conv
// 16@5x5 'valid' tanh -> avgpool 2x2 -> flatten 400 (C,H,W) -> dense 120 tanh -> dense 84 tanh ->
// dense 10 softmax. 'same' padding of the first conv = 'valid' on the zero-bordered 32x32 input.

const articleParameters = (classes: number): readonly ParameterSpec[] => [
  ...convParameters("c1", C1), ...convParameters("c3", C3),
  ...denseParameters("f5", F5), ...denseParameters("f6", F6), ...denseParameters("out", output(classes)),
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

/** The article's network with `classes` outputs. */
function articleNetwork(classes: number): Architecture {
  const parameters = articleParameters(classes);
  const OUT = output(classes);
  const dense: DenseGradient[] = [
    { weight: "out.weight", bias: "out.bias", dout: "dlogits", inp: "f6", ...OUT },
    { weight: "f6.weight", bias: "f6.bias", dout: "df6", inp: "f5", ...F6 },
    { weight: "f5.weight", bias: "f5.bias", dout: "df5", inp: "p4", ...F5 },
  ];
  return {
    name: "lenet5",
    title: "LeNet-5 (the article's Keras model)",
    parameters,
    trainableCount: parameters.reduce((n, p) => n + sizeOf(p.shape), 0),
    activations: {
      input: INPUT, // (1,32,32), zero border
      c1: C1.out, // conv c1 then tanh
      p2: S2.out,
      c3: C3.out, // conv c3 then tanh, in place
      p4: S4.out, // = flatten (400), channel-major like PyTorch
      f5: F5.N,
      f6: F6.N,
      logits: classes,
      probs: classes,
      // gradients w.r.t. the activations, in backward order
      dlogits: classes,
      df6: F6.N,
      df5: F5.N,
      dp4: S4.out,
      dc3: C3.out,
      dp2: S2.out,
      dc1: C1.out,
    },
    layers: layerSpecs(["p2", "p4", "f5"], classes, classes),
    scratch: CONV_SCRATCH,
    constants: {},
    dense,
    input: { low: 0, high: 1 },
    classes,
    logitsPerImage: classes,
    initialize: (rng) => glorot(parameters, rng),

    bind(placement) {
      const { k, param: P, grad: G, act, fixed } = placement;
      const [dOut, d6, d5] = dense.map((d) => placeDenseGradient(d, placement)) as [PlacedDenseGradient, PlacedDenseGradient, PlacedDenseGradient];
      const w1 = P("c1.weight"), b1 = P("c1.bias"), w3 = P("c3.weight"), b3 = P("c3.bias"), w5 = P("f5.weight"), b5 = P("f5.bias");
      const w6 = P("f6.weight"), b6 = P("f6.bias"), wo = P("out.weight"), bo = P("out.bias");
      const gw1 = G("c1.weight"), gb1 = G("c1.bias"), gw3 = G("c3.weight"), gb3 = G("c3.bias");
      const input = act("input"), c1 = act("c1"), p2 = act("p2"), c3 = act("c3");
      const p4 = act("p4"), f5 = act("f5"), f6 = act("f6"), logits = act("logits");
      const dlogits = act("dlogits"), df6 = act("df6"), df5 = act("df5"), dp4 = act("dp4"), dc3 = act("dc3"), dp2 = act("dp2"), dc1 = act("dc1");
      const c3T = fixed("c3T"), dcol3 = fixed("dcol3"), dw1 = fixed("dw1"), dw3 = fixed("dw3"), patches3 = fixed("patches3");
      return {
        forward(B, first, store) {
          if (store) { // what backward reads: c1 and c3 after tanh
            if (k.conv2d_tanh_pool_rows_keep) k.conv2d_tanh_pool_rows_keep(p2(first), c1(first), input(first), w1, b1, B, C1.C, C1.H, C1.W, C1.OC, C1.K);
            else { // the inference module (activations()): the same bits in three passes
              k.conv2d_fwd_rows(c1(first), input(first), w1, b1, B, C1.C, C1.H, C1.W, C1.OC, C1.K);
              k.tanh_fwd(c1(first), c1(first), B * C1.out);
              k.avgpool2d_fwd(p2(first), c1(first), B, S2.C, S2.H, S2.W);
            }
            convolve(k, C3, B, c3(first), p2(first), w3, b3, c3T);
            k.tanh_fwd(c3(first), c3(first), B * C3.out);
            k.avgpool2d_fwd(p4(first), c3(first), B, S4.C, S4.H, S4.W);
          } else { // each convolution, its tanh and its pooling in one pass: c1 and c3 are not stored
            k.conv2d_tanh_pool_rows(p2(first), input(first), w1, b1, B, C1.C, C1.H, C1.W, C1.OC, C1.K);
            k.conv2d_weight_t(c3T, w3, C3.OC, C3.patch);
            k.conv2d_tanh_pool_pixels(p4(first), p2(first), c3T, b3, B, C3.C, C3.H, C3.W, C3.OC, C3.K);
          }
          k.dense_fwd(f5(first), p4(first), w5, b5, B, F5.K, F5.N);
          k.tanh_fwd(f5(first), f5(first), B * F5.N);
          k.dense_fwd(f6(first), f5(first), w6, b6, B, F6.K, F6.N);
          k.tanh_fwd(f6(first), f6(first), B * F6.N);
          k.dense_fwd(logits(first), f6(first), wo, bo, B, OUT.K, OUT.N);
        },

        backward(B, first, denseWeights = true) {
          if (denseWeights) denseWeightGradient(k, dOut, B, dlogits(first), f6(first));
          k.dense_bwd_input(df6(first), dlogits(first), wo, B, OUT.K, OUT.N);
          k.tanh_bwd(df6(first), df6(first), f6(first), B * F6.N);
          if (denseWeights) denseWeightGradient(k, d6, B, df6(first), f5(first));
          k.dense_bwd_input(df5(first), df6(first), w6, B, F6.K, F6.N);
          k.tanh_bwd(df5(first), df5(first), f5(first), B * F5.N);
          if (denseWeights) denseWeightGradient(k, d5, B, df5(first), p4(first));
          k.dense_bwd_input(dp4(first), df5(first), w5, B, F5.K, F5.N);
          k.avgpool2d_tanh_bwd(dc3(first), dp4(first), c3(first), B, S4.C, S4.H, S4.W);
          k.conv2d_bwd_weight_packed(gw3, gb3, dw3, patches3, dc3(first), p2(first), B, C3.C, C3.H, C3.W, C3.OC, C3.K);
          k.conv2d_bwd_input(dp2(first), dcol3, dc3(first), w3, B, C3.C, C3.H, C3.W, C3.OC, C3.K);
          k.avgpool2d_tanh_bwd(dc1(first), dp2(first), c1(first), B, S2.C, S2.H, S2.W);
          k.conv2d_bwd_weight_rows(gw1, gb1, dw1, dc1(first), input(first), B, C1.C, C1.H, C1.W, C1.OC);
        },
      };
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
export const C3_MASK = Float32Array.from({ length: C3.OC * C3.patch }, (_, i) =>
  (C3_TABLE[Math.floor(i / (C3.K * C3.K)) % C3.C]![Math.floor(i / C3.patch)] === "X" ? 1 : 0));

/**
 * The RBF units' codes: a 7x12 bitmap of each digit (84 values: one per F6 unit), +1 ink and -1
 * background (the paper draws its codes as stylised 7x12 characters, figure 3; it does not publish
 * them, so these are ours).
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

const PAPER_PARAMETERS: readonly ParameterSpec[] = [
  ...convParameters("c1", C1),
  { name: "s2.weight", shape: [S2.C] }, // one coefficient and one bias per map
  { name: "s2.bias", shape: [S2.C] },
  ...convParameters("c3", C3),
  { name: "s4.weight", shape: [S4.C] },
  { name: "s4.bias", shape: [S4.C] },
  { name: "c5.weight", shape: [F5.N, S4.C, S4.OH, S4.OW] }, // a 5x5 convolution on the 5x5 maps
  { name: "c5.bias", shape: [F5.N] },
  ...denseParameters("f6", F6),
];

/** Inputs of each C3 map: 25 per S2 map that Table I connects it to. */
const C3_FAN_IN = Array.from({ length: C3.OC }, (_, m) => C3_MASK.subarray(m * C3.patch, (m + 1) * C3.patch).reduce((a, b) => a + b, 0));

/** Fan-in of each weight of a tensor: inputs of the unit it feeds (C3: 25 per connected S2 map). */
function paperFanIn(name: string, index: number): number {
  switch (name) {
    case "c1.weight": return C1.patch;
    case "s2.weight": case "s4.weight": return 4; // a 2x2 window
    case "c3.weight": return C3_FAN_IN[Math.floor(index / C3.patch)]!;
    case "c5.weight": return F5.K;
    case "f6.weight": return F6.K;
    default: return F6.N; // out.weight (the softmax output)
  }
}

/** The 1998 network with the paper's RBF output (10 classes), or with a softmax output layer of `classes`. */
function paperNetwork(kind: "rbf" | "softmax", classes = CLASSES): Architecture {
  const rbf = kind === "rbf";
  const parameters: readonly ParameterSpec[] = rbf ? PAPER_PARAMETERS : [...PAPER_PARAMETERS, ...denseParameters("out", output(classes))];
  const logits = rbf ? CLASSES + 1 : classes;
  const OUT = output(classes);
  const dense: DenseGradient[] = [
    ...(rbf ? [] : [{ weight: "out.weight", bias: "out.bias", dout: "dlogits", inp: "f6", ...OUT }]),
    { weight: "f6.weight", bias: "f6.bias", dout: "df6", inp: "c5", ...F6 },
    { weight: "c5.weight", bias: "c5.bias", dout: "dc5", inp: "s4", ...F5 }, // a 5x5 convolution on 5x5 maps: a dense layer
  ];
  return {
    name: rbf ? "lenet5-1998" : "lenet5-1998-softmax",
    title: rbf ? "LeNet-5 as in LeCun et al. 1998" : "LeNet-5 as in LeCun et al. 1998, softmax output",
    parameters,
    // C3: 60 connected map pairs of 25 weights, not 96.
    trainableCount: parameters.reduce((n, p) => n + sizeOf(p.shape), 0) - (C3_MASK.length - C3_MASK.reduce((a, b) => a + b, 0)),
    activations: {
      input: INPUT,
      c1: C1.out, // conv then squash, in place (likewise below)
      s2: S2.out,
      c3: C3.out,
      s4: S4.out,
      c5: F5.N,
      f6: F6.N,
      logits, // RBF: -squared distance to each code, then -j
      probs: logits,
      dlogits: logits,
      df6: F6.N,
      dc5: F5.N,
      ds4: S4.out,
      dc3: C3.out,
      ds2: S2.out,
      dc1: C1.out,
    },
    layers: layerSpecs(["s2", "s4", "c5"], logits, classes),
    scratch: CONV_SCRATCH,
    constants: rbf ? { c3Mask: C3_MASK, codes: RBF_CODES } : { c3Mask: C3_MASK },
    dense,
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

    bind(placement) {
      const { k, param: P, grad: G, act, fixed } = placement;
      const placed = dense.map((d) => placeDenseGradient(d, placement));
      const [d6, d5] = placed.slice(-2) as [PlacedDenseGradient, PlacedDenseGradient], dOut = rbf ? undefined : placed[0];
      const w1 = P("c1.weight"), b1 = P("c1.bias"), s2w = P("s2.weight"), s2b = P("s2.bias"), w3 = P("c3.weight"), b3 = P("c3.bias");
      const s4w = P("s4.weight"), s4b = P("s4.bias"), w5 = P("c5.weight"), b5 = P("c5.bias"), w6 = P("f6.weight"), b6 = P("f6.bias");
      const wo = rbf ? 0 : P("out.weight"), bo = rbf ? 0 : P("out.bias");
      const gw1 = G("c1.weight"), gb1 = G("c1.bias"), gs2w = G("s2.weight"), gs2b = G("s2.bias"), gw3 = G("c3.weight"), gb3 = G("c3.bias");
      const gs4w = G("s4.weight"), gs4b = G("s4.bias");
      const input = act("input"), c1 = act("c1"), s2 = act("s2"), c3 = act("c3"), s4 = act("s4");
      const c5 = act("c5"), f6 = act("f6"), out = act("logits");
      const dlogits = act("dlogits"), df6 = act("df6"), dc5 = act("dc5"), ds4 = act("ds4"), dc3 = act("dc3"), ds2 = act("ds2"), dc1 = act("dc1");
      const c3T = fixed("c3T"), dcol3 = fixed("dcol3"), dw1 = fixed("dw1"), dw3 = fixed("dw3"), patches3 = fixed("patches3"), c3Mask = fixed("c3Mask"), codes = rbf ? fixed("codes") : 0;
      return {
        forward(B, first) { // it stores every activation anyway
          convolve(k, C1, B, c1(first), input(first), w1, b1, 0);
          k.squash_fwd(c1(first), c1(first), B * C1.out);
          k.subsample2d_fwd(s2(first), c1(first), s2w, s2b, B, S2.C, S2.H, S2.W);
          k.squash_fwd(s2(first), s2(first), B * S2.out);
          convolve(k, C3, B, c3(first), s2(first), w3, b3, c3T);
          k.squash_fwd(c3(first), c3(first), B * C3.out);
          k.subsample2d_fwd(s4(first), c3(first), s4w, s4b, B, S4.C, S4.H, S4.W);
          k.squash_fwd(s4(first), s4(first), B * S4.out);
          k.dense_fwd(c5(first), s4(first), w5, b5, B, F5.K, F5.N);
          k.squash_fwd(c5(first), c5(first), B * F5.N);
          k.dense_fwd(f6(first), c5(first), w6, b6, B, F6.K, F6.N);
          k.squash_fwd(f6(first), f6(first), B * F6.N);
          if (rbf) k.rbf_fwd(out(first), f6(first), codes, B, F6.N, CLASSES, RBF_RUBBISH);
          else k.dense_fwd(out(first), f6(first), wo, bo, B, OUT.K, OUT.N);
        },

        backward(B, first, denseWeights = true) {
          if (!dOut) k.rbf_bwd_input(df6(first), dlogits(first), f6(first), codes, B, F6.N, CLASSES);
          else {
            if (denseWeights) denseWeightGradient(k, dOut, B, dlogits(first), f6(first));
            k.dense_bwd_input(df6(first), dlogits(first), wo, B, OUT.K, OUT.N);
          }
          k.squash_bwd(df6(first), df6(first), f6(first), B * F6.N);
          if (denseWeights) denseWeightGradient(k, d6, B, df6(first), c5(first));
          k.dense_bwd_input(dc5(first), df6(first), w6, B, F6.K, F6.N);
          k.squash_bwd(dc5(first), dc5(first), c5(first), B * F5.N);
          if (denseWeights) denseWeightGradient(k, d5, B, dc5(first), s4(first));
          k.dense_bwd_input(ds4(first), dc5(first), w5, B, F5.K, F5.N);
          k.squash_bwd(ds4(first), ds4(first), s4(first), B * S4.out);
          k.subsample2d_bwd(dc3(first), gs4w, gs4b, ds4(first), c3(first), s4w, B, S4.C, S4.H, S4.W);
          k.squash_bwd(dc3(first), dc3(first), c3(first), B * C3.out);
          k.conv2d_bwd_weight_packed(gw3, gb3, dw3, patches3, dc3(first), s2(first), B, C3.C, C3.H, C3.W, C3.OC, C3.K);
          k.mask_f32(gw3, c3Mask, C3_MASK.length); // no gradient outside the connection table
          k.conv2d_bwd_input(ds2(first), dcol3, dc3(first), w3, B, C3.C, C3.H, C3.W, C3.OC, C3.K);
          k.squash_bwd(ds2(first), ds2(first), s2(first), B * S2.out);
          k.subsample2d_bwd(dc1(first), gs2w, gs2b, ds2(first), c1(first), s2w, B, S2.C, S2.H, S2.W);
          k.squash_bwd(dc1(first), dc1(first), c1(first), B * C1.out);
          k.conv2d_bwd_weight_rows(gw1, gb1, dw1, dc1(first), input(first), B, C1.C, C1.H, C1.W, C1.OC);
        },
      };
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
 * @throws OptionError for a name that is not a network's, or a number of classes the network cannot have
 */
export function architecture(name: ArchitectureName, classes = CLASSES): Architecture {
  if (!Object.hasOwn(ARCHITECTURES, name)) throw new OptionError("arch", `must be one of ${ARCHITECTURE_NAMES.join(", ")}, got ${JSON.stringify(name)}`);
  if (!Number.isInteger(classes) || classes < 2 || classes > MAX_CLASSES) throw new OptionError("classes", `must be an integer in 2..${MAX_CLASSES}, got ${classes}`);
  const arch = ARCHITECTURES[name];
  if (classes === CLASSES) return arch;
  if (name === "lenet5-1998") throw new OptionError("classes", `${classes}: lenet5-1998's RBF output has codes for the 10 digits only; use lenet5-1998-softmax or lenet5`);
  return name === "lenet5" ? articleNetwork(classes) : paperNetwork("softmax", classes);
}
