import { describe, expect, it } from "vitest";
import {
  decodeSafetensors,
  encodeSafetensors,
  SafetensorsError,
  type DecodeOptions,
  type Tensor,
} from "../../src/io/safetensors.js";

const FILE = "model.safetensors";

/** Build a file by hand: LE u64 header length, the header text as is, then raw data bytes. */
function rawFile(header: string, data: Uint8Array = new Uint8Array(0), headerLen?: bigint): Uint8Array {
  const json = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, headerLen ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

/** Float32 little-endian bytes, written explicitly so the test is host-independent. */
function f32le(values: number[]): Uint8Array {
  const out = new Uint8Array(4 * values.length);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setFloat32(4 * i, v, true));
  return out;
}

/** A file with the given header entries (as JSON) and float data. */
function fileWith(entries: Record<string, unknown>, values: number[] = []): Uint8Array {
  return rawFile(JSON.stringify(entries), f32le(values));
}

function f32(name: string, shape: unknown, offsets: unknown): Record<string, unknown> {
  return { [name]: { dtype: "F32", shape, data_offsets: offsets } };
}

function bits(a: Float32Array): number[] {
  const view = new DataView(a.buffer, a.byteOffset, a.byteLength);
  return Array.from({ length: a.length }, (_, i) => view.getUint32(4 * i, true));
}

/** Assert decode throws a SafetensorsError naming the file (and tensor), with the message matching. */
function expectDecodeError(
  bytes: Uint8Array,
  match: RegExp,
  tensor?: string,
  options: DecodeOptions = {},
): void {
  const run = (): unknown => decodeSafetensors(bytes, { file: FILE, ...options });
  expect(run).toThrow(SafetensorsError);
  expect(run).toThrow(match);
  try {
    run();
  } catch (e) {
    const err = e as SafetensorsError;
    expect(err.name).toBe("SafetensorsError");
    expect(err.message.startsWith(`${FILE}: `)).toBe(true);
    expect(err.file).toBe(FILE);
    expect(err.tensor).toBe(tensor);
    if (tensor !== undefined) expect(err.message).toContain(`tensor ${JSON.stringify(tensor)}`);
  }
}

describe("encode/decode round trip", () => {
  const tensors = new Map<string, Tensor>([
    ["conv1.weight", { shape: [2, 1, 2, 2], data: new Float32Array([1, -0, 0.5, -1.5, 1e-45, -1e-45, 1.1754942e-38, 3.4028235e38]) }],
    ["conv1.bias", { shape: [2], data: new Float32Array([Math.fround(0.1), -Math.fround(1e-40)]) }],
    ["scalar", { shape: [], data: new Float32Array([-7.25]) }],
    ["empty", { shape: [0, 3], data: new Float32Array(0) }],
    ["fc.weight", { shape: [3, 5], data: Float32Array.from({ length: 15 }, (_, i) => Math.fround(Math.sin(i) * 1e-3)) }],
  ]);
  const metadata = { format: "pt", model: "lenet-5", note: "ünïcødé ✓" };

  it("is bitwise exact, including -0 and denormals, and keeps order, shapes and metadata", () => {
    const bytes = encodeSafetensors(tensors, metadata);
    const out = decodeSafetensors(bytes, { file: FILE });
    expect([...out.tensors.keys()]).toEqual([...tensors.keys()]);
    for (const [name, t] of tensors) {
      const got = out.tensors.get(name);
      expect(got?.shape).toEqual(t.shape);
      expect(got?.data).toBeInstanceOf(Float32Array);
      expect(bits(got!.data as Float32Array)).toEqual(bits(t.data as Float32Array));
    }
    expect(Object.is(out.tensors.get("conv1.weight")!.data[1], -0)).toBe(true);
    expect(out.tensors.get("conv1.weight")!.data[4]).toBe(Math.fround(1e-45));
    expect(out.metadata).toEqual(metadata);
  });

  it("accepts a plain record as well as a Map, and gives {} metadata when there is none", () => {
    const record = Object.fromEntries(tensors);
    expect(encodeSafetensors(record, metadata)).toEqual(encodeSafetensors(tensors, metadata));
    const out = decodeSafetensors(encodeSafetensors(record));
    expect(out.metadata).toEqual({});
    expect([...out.tensors.keys()]).toEqual([...tensors.keys()]);
  });

  it("returns fresh copies that do not alias the input bytes", () => {
    const bytes = encodeSafetensors({ w: { shape: [2], data: new Float32Array([1, 2]) } });
    const { tensors: out } = decodeSafetensors(bytes);
    const w = out.get("w")!.data;
    expect(w.buffer).not.toBe(bytes.buffer);
    bytes.fill(0);
    expect(Array.from(w)).toEqual([1, 2]);
  });

  it("round-trips I8 tensors beside F32 ones, from a view into a larger buffer, and checks expected dtypes", () => {
    const q = Int8Array.from([-127, -1, 0, 1, 127]);
    const bytes = encodeSafetensors({ q: { shape: [5], data: q }, s: { shape: [1], data: Float32Array.of(0.5) } });
    expect(JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + Number(new DataView(bytes.buffer).getBigUint64(0, true))))).q)
      .toEqual({ dtype: "I8", shape: [5], data_offsets: [0, 5] });
    const pool = Buffer.alloc(bytes.length + 100, 0x55); // Node Buffers: slice() is a view, not a copy
    pool.set(bytes, 37);
    const out = decodeSafetensors(pool.subarray(37, 37 + bytes.length), { expect: [{ name: "q", shape: [5], dtype: "I8" }, { name: "s", shape: [1] }] });
    expect(out.tensors.get("q")!.data).toEqual(q);
    expect(out.tensors.get("s")!.data).toEqual(Float32Array.of(0.5));
    expect(() => decodeSafetensors(bytes, { file: FILE, expect: [{ name: "q", shape: [5] }, { name: "s", shape: [1] }] }))
      .toThrow(/model\.safetensors: tensor "q": expected dtype "F32" but found "I8"/);
  });

  it("starts the data at an 8-byte aligned offset, padding the header with spaces", () => {
    for (let nameLen = 1; nameLen <= 16; nameLen++) {
      const bytes = encodeSafetensors({ ["x".repeat(nameLen)]: { shape: [1], data: new Float32Array([3]) } });
      const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
      expect((8 + n) % 8).toBe(0);
      expect(bytes.length).toBe(8 + n + 4);
      const header = new TextDecoder().decode(bytes.subarray(8, 8 + n));
      expect(header).toMatch(/^\{.*\} {0,7}$/);
      expect(JSON.parse(header)).toEqual({ ["x".repeat(nameLen)]: { dtype: "F32", shape: [1], data_offsets: [0, 4] } });
    }
  });
});

describe("golden bytes", () => {
  // What Python's safetensors.torch.save_file / load_file agree on: u64 LE header length,
  // JSON with dtype "F32", shape and data_offsets relative to the data buffer, then LE floats.
  const json =
    '{"__metadata__":{"format":"pt"},' +
    '"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},' +
    '"b":{"dtype":"F32","shape":[1,1],"data_offsets":[8,12]}}';
  const golden = new Uint8Array([
    0x90, 0, 0, 0, 0, 0, 0, 0, // header length 144 = 141 bytes of JSON + 3 spaces
    ...new TextEncoder().encode(json + "   "),
    0x00, 0x00, 0x80, 0x3f, // w[0] = 1.0
    0x00, 0x00, 0x00, 0xc0, // w[1] = -2.0
    0x00, 0x00, 0x00, 0x3f, // b[0][0] = 0.5
  ]);

  it("encodes a tiny file to exactly the hand-written bytes", () => {
    expect(json.length).toBe(141);
    const bytes = encodeSafetensors(
      new Map([
        ["w", { shape: [2], data: new Float32Array([1, -2]) }],
        ["b", { shape: [1, 1], data: new Float32Array([0.5]) }],
      ]),
      { format: "pt" },
    );
    expect(Array.from(bytes)).toEqual(Array.from(golden));
  });

  it("decodes the hand-written bytes", () => {
    const { tensors, metadata } = decodeSafetensors(golden, { file: FILE });
    expect(metadata).toEqual({ format: "pt" });
    expect(tensors.get("w")).toEqual({ shape: [2], data: new Float32Array([1, -2]) });
    expect(tensors.get("b")).toEqual({ shape: [1, 1], data: new Float32Array([0.5]) });
  });

  it("decodes an unpadded header, out-of-order offsets and a misaligned subarray", () => {
    // Header of odd length (data unaligned), "a" stored after "b", and the file at byteOffset 3.
    const inner = rawFile(
      JSON.stringify({ ...f32("a", [2], [4, 12]), ...f32("b", [], [0, 4]) }),
      f32le([9, 1.5, -2.5]),
    );
    expect((8 + inner.length - 12) % 4).not.toBe(0);
    const backing = new Uint8Array(inner.length + 5);
    backing.set(inner, 3);
    const { tensors } = decodeSafetensors(backing.subarray(3, 3 + inner.length));
    expect(tensors.get("a")).toEqual({ shape: [2], data: new Float32Array([1.5, -2.5]) });
    expect(tensors.get("b")).toEqual({ shape: [], data: new Float32Array([9]) });
  });
});

describe("encode rejects bad input", () => {
  it("data length that is not the product of the shape", () => {
    const run = (): unknown => encodeSafetensors({ w: { shape: [2, 3], data: new Float32Array(5) } });
    expect(run).toThrow(SafetensorsError);
    expect(run).toThrow(/tensor "w": shape \[2,3\] needs 6 values but data has 5/);
  });

  it("a negative or fractional shape", () => {
    expect(() => encodeSafetensors({ w: { shape: [-1], data: new Float32Array(0) } })).toThrow(SafetensorsError);
    expect(() => encodeSafetensors({ w: { shape: [0.5, 2], data: new Float32Array(1) } })).toThrow(/tensor "w"/);
  });

  it("non-string metadata values", () => {
    const meta = { epochs: 3 } as unknown as Record<string, string>;
    const run = (): unknown => encodeSafetensors({}, meta);
    expect(run).toThrow(SafetensorsError);
    expect(run).toThrow(/metadata "epochs" must be a string, got number/);
  });

  it("NaN or Infinity values, which decode would refuse", () => {
    const run = (): unknown => encodeSafetensors({ w: { shape: [3], data: new Float32Array([0, 1, NaN]) } });
    expect(run).toThrow(SafetensorsError);
    expect(run).toThrow(/tensor "w": value at index 2 is NaN/);
  });

  it("a tensor named __metadata__", () => {
    expect(() => encodeSafetensors({ __metadata__: { shape: [], data: new Float32Array(1) } })).toThrow(SafetensorsError);
  });
});

describe("decode rejects hostile or unexpected input", () => {
  const ok = f32("w", [2], [0, 8]);

  it("fewer than 8 bytes", () => {
    expectDecodeError(new Uint8Array(0), /too short/);
    expectDecodeError(new Uint8Array(7), /file is 7 bytes, too short/);
  });

  it("header length past the end of the file", () => {
    const bytes = rawFile(JSON.stringify(ok), f32le([1, 2]), 1000n);
    expectDecodeError(bytes, new RegExp(`header length 1000 runs past the end of the ${bytes.length}-byte file`));
    expectDecodeError(new Uint8Array([1, 0, 0, 0, 0, 0, 0, 0]), /runs past the end/);
  });

  it("huge header length (over 100 MB, up to 2^64-1)", () => {
    expectDecodeError(rawFile("{}", undefined, 100_000_001n), /header length 100000001 exceeds the 100000000-byte limit/);
    expectDecodeError(rawFile("{}", undefined, 2n ** 64n - 1n), /header length 18446744073709551615 exceeds/);
  });

  it("header that is not valid JSON or not valid UTF-8", () => {
    expectDecodeError(rawFile('{"w": {"dtype": '), /not valid UTF-8 JSON/);
    const badUtf8 = rawFile("{}  ");
    badUtf8.set([0x22, 0xff, 0xfe, 0x22], 8); // a JSON string holding invalid UTF-8
    expectDecodeError(badUtf8, /not valid UTF-8 JSON/);
  });

  it("header that is a JSON array (or other non-object)", () => {
    expectDecodeError(rawFile("[]"), /header must be a JSON object, got an array/);
    expectDecodeError(rawFile("null"), /header must be a JSON object, got null/);
  });

  it("__metadata__ that is not an object of strings", () => {
    expectDecodeError(fileWith({ __metadata__: { epochs: 3 }, ...ok }, [1, 2]), /"__metadata__" value "epochs" must be a string, got 3/);
    expectDecodeError(fileWith({ __metadata__: ["pt"] }), /"__metadata__" must be an object of strings/);
  });

  it("dtype other than F32", () => {
    const bytes = fileWith({ w: { dtype: "F16", shape: [2], data_offsets: [0, 4] } }, [0]);
    expectDecodeError(bytes, /dtype is "F16" but only "F32" and "I8" are supported/, "w");
    expectDecodeError(fileWith({ w: { shape: [2], data_offsets: [0, 8] } }, [1, 2]), /only "F32"/, "w");
  });

  it("shape that is negative, fractional or not an array", () => {
    expectDecodeError(fileWith(f32("w", [-2], [0, 8]), [1, 2]), /shape must be an array of non-negative integers, got \[-2\]/, "w");
    expectDecodeError(fileWith(f32("w", [1.5], [0, 8]), [1, 2]), /got \[1.5\]/, "w");
    expectDecodeError(fileWith(f32("w", "2", [0, 8]), [1, 2]), /shape must be/, "w");
    expectDecodeError(fileWith(f32("w", [2 ** 53, 1], [0, 8]), [1, 2]), /shape must be/, "w");
  });

  it("data_offsets out of range or malformed", () => {
    const bad = (offsets: unknown): Uint8Array => fileWith(f32("w", [2], offsets), [1, 2]);
    expectDecodeError(bad([0, 12]), /data_offsets \[0,12\] must be \[begin, end\] with 0 <= begin <= end <= 8/, "w");
    expectDecodeError(bad([-4, 4]), /data_offsets/, "w");
    expectDecodeError(bad([8, 0]), /data_offsets/, "w");
    expectDecodeError(bad([0, 4.5]), /data_offsets/, "w");
    expectDecodeError(bad([0]), /data_offsets/, "w");
    expectDecodeError(bad(undefined), /data_offsets/, "w");
  });

  it("data size that does not match the shape", () => {
    expectDecodeError(fileWith(f32("w", [3], [0, 8]), [1, 2]), /shape \[3\] needs 12 bytes but data_offsets span 8/, "w");
  });

  it("overlapping tensors", () => {
    const bytes = fileWith({ ...f32("a", [2], [0, 8]), ...f32("b", [2], [4, 12]) }, [1, 2, 3]);
    expectDecodeError(bytes, /data_offsets \[4, 12\] overlap tensor "a" \[0, 8\]/, "b");
    // Many tensors aliasing one region would otherwise decode to far more than the input size.
    const alias = Object.assign({}, ...Array.from({ length: 50 }, (_, i) => f32(`t${i}`, [2], [0, 8])));
    expect(() => decodeSafetensors(fileWith(alias, [1, 2]), { file: FILE })).toThrow(SafetensorsError);
  });

  it("NaN or Infinity values", () => {
    const bytes = fileWith({ ...f32("a", [1], [0, 4]), ...f32("b", [3], [4, 16]) }, [1, 2, NaN, 4]);
    expectDecodeError(bytes, /value at index 1 is NaN/, "b");
    expectDecodeError(fileWith(f32("w", [2], [0, 8]), [-Infinity, 0]), /value at index 0 is -Infinity/, "w");
  });

  describe("with expect", () => {
    const bytes = encodeSafetensors({
      "conv1.weight": { shape: [6, 1, 5, 5], data: new Float32Array(150) },
      "conv1.bias": { shape: [6], data: new Float32Array(6) },
    });
    const spec = [
      { name: "conv1.weight", shape: [6, 1, 5, 5] },
      { name: "conv1.bias", shape: [6] },
    ];

    it("passes when names and shapes match exactly", () => {
      expect(decodeSafetensors(bytes, { file: FILE, expect: spec }).tensors.size).toBe(2);
    });

    it("missing expected tensor", () => {
      expectDecodeError(bytes, /missing \(expected shape \[120,400\]; file has "conv1.weight", "conv1.bias"\); .*re-export/, "fc1.weight", {
        expect: [...spec, { name: "fc1.weight", shape: [120, 400] }],
      });
    });

    it("wrong shape for an expected tensor", () => {
      expectDecodeError(bytes, /expected shape \[6,1,3,3\] but found \[6,1,5,5\]; .*re-export/, "conv1.weight", {
        expect: [{ name: "conv1.weight", shape: [6, 1, 3, 3] }, spec[1]],
      });
      expectDecodeError(bytes, /expected shape \[6,1\] but found \[6\]/, "conv1.bias", {
        expect: [spec[0], { name: "conv1.bias", shape: [6, 1] }],
      });
    });

    it("unexpected tensor", () => {
      expectDecodeError(bytes, /unexpected \(expected only "conv1.weight"\); .*re-export/, "conv1.bias", {
        expect: [spec[0]],
      });
    });
  });

  it("treats __proto__ keys as plain names, not prototypes", () => {
    const text = '{"__metadata__":{"__proto__":"x"},"__proto__":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}';
    const { tensors, metadata } = decodeSafetensors(rawFile(text, f32le([5])));
    expect(Object.getPrototypeOf(metadata)).toBe(Object.prototype);
    expect(Object.hasOwn(metadata, "__proto__")).toBe(true);
    expect(tensors.get("__proto__")?.data[0]).toBe(5);
    const again = decodeSafetensors(encodeSafetensors(tensors, metadata));
    expect(again.tensors.get("__proto__")?.data[0]).toBe(5);
    expect(Object.hasOwn(again.metadata, "__proto__")).toBe(true);
  });
});
