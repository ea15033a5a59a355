// Datasets from IDX bytes (plain, gzipped, 32x32 with a blank border), validation splits and subsets.
import { describe, expect, it } from "vitest";
import { writeIdx } from "../../src/data/idx.js";
import { cropField, datasetFromIdx, DatasetError, splitValidation, subset } from "../../src/data/datasets.js";
import { mnist } from "../helpers.js";

const u8 = (dims: number[], data: Uint8Array) => writeIdx({ dtype: "u8", dims, data });

describe("datasetFromIdx", () => {
  it("reads images and labels, plain or gzipped", () => {
    const images = Uint8Array.from({ length: 2 * 784 }, (_, i) => i % 256);
    const plain = datasetFromIdx(u8([2, 28, 28], images), u8([2], Uint8Array.of(3, 9)));
    const gz = datasetFromIdx(writeIdx({ dtype: "u8", dims: [2, 28, 28], data: images }, { gzip: true }), u8([2], Uint8Array.of(3, 9)));
    expect(plain.count).toBe(2);
    expect(Array.from(gz.labels)).toEqual([3, 9]);
    expect(gz.images).toEqual(images);
  });

  it("rejects mismatched counts, wrong image sizes, bad labels and wrong dtypes, naming the file", () => {
    const img = (n: number, side = 28) => u8([n, side, side], new Uint8Array(n * side * side));
    const names = { images: "imgs.idx", labels: "labs.idx" };
    expect(() => datasetFromIdx(img(3), u8([2], new Uint8Array(2)), names)).toThrow(/labs.idx has 2 labels but imgs.idx has 3 images/);
    expect(() => datasetFromIdx(img(2, 24), u8([2], new Uint8Array(2)), names)).toThrow(/imgs.idx: images are 24x24/);
    expect(() => datasetFromIdx(img(2), u8([2], Uint8Array.of(1, 10)), names)).toThrow(/labs.idx: label 10 at index 1/);
    const f32 = writeIdx({ dtype: "f32", dims: [2], data: new Float32Array(2) });
    expect(() => datasetFromIdx(img(2), f32, names)).toThrow(DatasetError);
  });

  it("splits off the last images for validation without copying", () => {
    const { train: all } = mnist();
    const { train: t, validation: v } = splitValidation(all, 5000);
    expect([t.count, v.count]).toEqual([55000, 5000]);
    expect(v.labels[0]).toBe(all.labels[55000]);
    expect(v.images.buffer).toBe(all.images.buffer);
    expect(() => splitValidation(all, 60000)).toThrow(RangeError);
    expect(() => subset(all, 59999, 2)).toThrow(RangeError);
  });
});

describe("32x32 images (the 1998 paper's input field)", () => {
  /** MNIST images padded with a blank border of 2: 32x32, as LeNet-5's input field. */
  const padded = (count: number) => {
    const { test } = mnist();
    const out = new Uint8Array(count * 1024);
    for (let n = 0; n < count; n++) {
      for (let y = 0; y < 28; y++) out.set(test.images.subarray(n * 784 + y * 28, n * 784 + y * 28 + 28), n * 1024 + (y + 2) * 32 + 2);
    }
    return { images: out, labels: test.labels.subarray(0, count) };
  };

  it("are read as the 28x28 digits inside their blank border, pixel for pixel (in shared memory when given it)", () => {
    const { images, labels } = padded(50);
    const d = datasetFromIdx(writeIdx({ dtype: "u8", dims: [50, 32, 32], data: images }), writeIdx({ dtype: "u8", dims: [50], data: labels }));
    expect(d.count).toBe(50);
    expect(d.images).toEqual(new Uint8Array(mnist().test.images.subarray(0, 50 * 784)));
    const bytes = writeIdx({ dtype: "u8", dims: [50, 32, 32], data: images });
    const shared = new Uint8Array(new SharedArrayBuffer(bytes.length));
    shared.set(bytes);
    expect(datasetFromIdx(shared, writeIdx({ dtype: "u8", dims: [50], data: labels })).images.buffer).toBeInstanceOf(SharedArrayBuffer);
  });

  it("are read where the engine has no SharedArrayBuffer at all (a page that is not cross-origin isolated)", () => {
    const { images, labels } = padded(3);
    const idx = [writeIdx({ dtype: "u8", dims: [3, 32, 32], data: images }), writeIdx({ dtype: "u8", dims: [3], data: labels })] as const;
    const shared = globalThis.SharedArrayBuffer;
    try {
      delete (globalThis as { SharedArrayBuffer?: unknown }).SharedArrayBuffer;
      expect(datasetFromIdx(...idx).images).toEqual(new Uint8Array(mnist().test.images.subarray(0, 3 * 784)));
      expect(datasetFromIdx(u8([1, 28, 28], new Uint8Array(784)), u8([1], Uint8Array.of(0))).count).toBe(1);
    } finally {
      globalThis.SharedArrayBuffer = shared;
    }
  });

  it("with ink in the border, or of another size, are refused naming the image and the place", () => {
    const { images, labels } = padded(5);
    images[3 * 1024 + 30 * 32 + 7] = 200; // image 3, row 30, column 7: in the bottom border
    const labelFile = writeIdx({ dtype: "u8", dims: [5], data: labels });
    expect(() => datasetFromIdx(writeIdx({ dtype: "u8", dims: [5, 32, 32], data: images }), labelFile, { images: "pad.idx", labels: "l" }))
      .toThrow(/pad\.idx: 32x32 images are read as 28x28 digits in a blank 2-pixel border .* image 3 has ink \(200\) at row 30, column 7/);
    // One image cut out of a file (predict --idx FILE --index 7) is named by its number in the file.
    expect(() => cropField(images.subarray(3 * 1024, 4 * 1024), 1, "one.idx", 7)).toThrow(/one\.idx: .* image 7 has ink/);
    expect(() => datasetFromIdx(writeIdx({ dtype: "u8", dims: [5, 30, 30], data: new Uint8Array(4500) }), labelFile))
      .toThrow(/images are 30x30; the networks read 28x28 images \(or 32x32 with a blank 2-pixel border\)/);
  });
});
