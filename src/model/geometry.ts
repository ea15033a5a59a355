// LeNet-5's shapes, written once. Every layer size in src/ comes from here: the three networks
// (networks.ts), int8 (int8.ts), the batch input (batches.ts), the ONNX export and the datasets.
// Both networks share the feature-map geometry (Keras's 'same' first convolution on 28x28 is a
// 'valid' one on the 32x32 field the 1998 paper uses); they differ in what runs between the maps.

/** Side of an MNIST image. */
export const IMAGE_SIDE = 28;
/** Pixels of an MNIST image (28 x 28). */
export const PIXELS = IMAGE_SIDE * IMAGE_SIDE;
/** Blank border around the image: c1's 5x5 kernels read a 32x32 field (the paper's input field). */
export const PAD = 2;
/** Side of the field c1 reads: the image and its border. */
export const INPUT_SIDE = IMAGE_SIDE + 2 * PAD;

/** Classes of MNIST and Fashion-MNIST: the networks' default. */
export const CLASSES = 10;
/** Most classes a network can be made for: labels are uint8. */
export const MAX_CLASSES = 256;

/** A 'valid' convolution, stride 1: input (C,H,W), OC kernels of C x K x K -> output (OC,OH,OW). */
export interface Conv {
  readonly C: number; readonly H: number; readonly W: number; readonly OC: number; readonly K: number;
  readonly OH: number; readonly OW: number;
  /** Values in one patch (C*K*K): a row of the unrolled input (im2col), a kernel's weights. */
  readonly patch: number;
  /** Values in one image's output (OC*OH*OW). */
  readonly out: number;
}

/** Side of the pooling window, and its stride. */
export const POOL_SIDE = 2;

/** 2x2 pooling, stride 2 (average, or the paper's trainable subsampling): (C,H,W) -> (C,H/2,W/2). */
export interface Pool {
  readonly C: number; readonly H: number; readonly W: number;
  readonly OH: number; readonly OW: number;
  readonly out: number;
}

/** A dense layer: K inputs, N outputs (weights (N,K), as PyTorch's Linear). */
export interface Dense { readonly K: number; readonly N: number }

function conv(C: number, side: number, OC: number, K: number): Conv {
  const OH = side - K + 1;
  return { C, H: side, W: side, OC, K, OH, OW: OH, patch: C * K * K, out: OC * OH * OH };
}

function pool({ OC: C, OH: H, OW: W }: Conv): Pool {
  const OH = Math.floor(H / POOL_SIDE), OW = Math.floor(W / POOL_SIDE);
  return { C, H, W, OH, OW, out: C * OH * OW };
}

/** c1: 1@32x32 -> 6@28x28. */
export const C1 = conv(1, INPUT_SIDE, 6, 5);
/** s2: 6@28x28 -> 6@14x14. */
export const S2 = pool(C1);
/** c3: 6@14x14 -> 16@10x10. */
export const C3 = conv(S2.C, S2.OH, 16, 5);
/** s4: 16@10x10 -> 16@5x5, flattened channel-major (C,H,W) into 400 values. */
export const S4 = pool(C3);
/** f5: 400 -> 120 (the paper's C5: 5x5 kernels on a 5x5 input are a dense layer). */
export const F5: Dense = { K: S4.out, N: 120 };
/** f6: 120 -> 84. */
export const F6: Dense = { K: F5.N, N: 84 };
/** The output layer: 84 -> one score per class. */
export const output = (classes: number): Dense => ({ K: F6.N, N: classes });

/** Values in a tensor of this shape. */
export const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);
/** A convolution's weight shape (OC,C,K,K) and a dense layer's (N,K), as PyTorch's state_dict. */
export const convWeight = (c: Conv): readonly number[] => [c.OC, c.C, c.K, c.K];
export const denseWeight = (d: Dense): readonly number[] => [d.N, d.K];
