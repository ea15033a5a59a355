// Fuzzing as tests: real IDX, model and checkpoint files, mutated (truncated, bytes flipped, headers
// spliced, huge dimensions, random JSON header fields), must each either parse into something
// consistent or throw the format's typed error. Never another exception, a hang or a huge allocation.
// FUZZ_RUNS (default 5000 per format) and FUZZ_SEED set the amount and the seed (`npm run fuzz`
// runs many more); fast-check prints the seed and the failing case to replay it.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { IdxError, parseIdx, writeIdx } from "../../src/data/idx.js";
import { LeNet5 } from "../../src/model/lenet.js";
import { datasetFromIdx, DatasetError, subset } from "../../src/data/datasets.js";
import { decodeCheckpoint, decodeModel, encodeCheckpoint, encodeModel } from "../../src/io/model-file.js";
import { SafetensorsError } from "../../src/io/safetensors.js";
import { mnist } from "../helpers.js";

const RUNS = Number(process.env.FUZZ_RUNS ?? 5000);
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
const params = { numRuns: RUNS, ...(SEED === undefined ? {} : { seed: SEED }) };
const TIMEOUT = Math.max(120_000, RUNS * 50);

/** A mutation of a file's bytes. */
type Mutation = (bytes: Uint8Array) => Uint8Array;

const truncate = fc.nat().map((n): Mutation => (b) => b.subarray(0, n % (b.length + 1)));
const flipBytes = fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 })
  .map((flips): Mutation => (b) => {
    const c = b.slice();
    for (const [at, value] of flips) c[at % c.length] = value;
    return c;
  });
/** Random bytes over part of the first `headerBytes` (where the structure lives). */
const spliceHeader = (headerBytes: number) => fc.tuple(fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 24 }))
  .map(([at, junk]): Mutation => (b) => {
    const c = b.slice();
    c.set(junk.subarray(0, Math.max(0, c.length - (at % headerBytes))), Math.min(at % headerBytes, c.length));
    return c;
  });
const appendJunk = fc.uint8Array({ minLength: 1, maxLength: 64 }).map((junk): Mutation => (b) => {
  const c = new Uint8Array(b.length + junk.length);
  c.set(b);
  c.set(junk, b.length);
  return c;
});
/** IDX: replace one dimension with an arbitrary 32-bit count (huge, zero, off by one...). */
const idxDims = fc.tuple(fc.nat(), fc.oneof(fc.constantFrom(0, 1, 0xffffffff, 0x7fffffff, 60000), fc.nat({ max: 0xffffffff })))
  .map(([which, value]): Mutation => (b) => {
    const c = b.slice();
    if (c.length < 8) return c;
    const rank = c[3]!;
    const at = 4 + 4 * (rank === 0 ? 0 : which % rank);
    if (at + 4 <= c.length) new DataView(c.buffer, c.byteOffset).setUint32(at, value >>> 0);
    return c;
  });
/** safetensors: rewrite one field of the JSON header (shape, offsets, dtype, metadata) with a random value. */
const jsonField = fc.tuple(fc.nat(), fc.oneof(
  fc.integer({ min: -5, max: 1 << 30 }), fc.double(), fc.string({ maxLength: 6 }), fc.constant(null),
  fc.array(fc.integer({ min: -2, max: 1 << 20 }), { maxLength: 5 }), fc.constantFrom("F16", "F64", "I32", "BF16"),
)).map(([pick, value]): Mutation => (b) => {
  // Only applies to a file whose header still parses (an earlier mutation may have broken it).
  if (b.length < 8) return b;
  const n = Number(new DataView(b.buffer, b.byteOffset, b.byteLength).getBigUint64(0, true));
  let header: Record<string, Record<string, unknown>>;
  try {
    header = JSON.parse(new TextDecoder().decode(b.subarray(8, 8 + n)));
    if (typeof header !== "object" || header === null || 8 + n > b.length) return b;
  } catch {
    return b;
  }
  const paths: [string, string][] = [];
  for (const [name, entry] of Object.entries(header)) if (typeof entry === "object" && entry !== null) for (const key of Object.keys(entry)) paths.push([name, key]);
  if (paths.length === 0) return b;
  const [name, key] = paths[pick % paths.length]!;
  header[name]![key] = key === "data_offsets" && Array.isArray(value) ? value.slice(0, 2) : value;
  const json = new TextEncoder().encode(JSON.stringify(header));
  const c = new Uint8Array(8 + json.length + (b.length - 8 - n));
  new DataView(c.buffer).setBigUint64(0, BigInt(json.length), true);
  c.set(json, 8);
  c.set(b.subarray(8 + n), 8 + json.length);
  return c;
});

/** Runs `parse` on mutated copies of `files`; any outcome but success or `allowed` errors fails. */
function fuzz(files: Uint8Array[], mutations: fc.Arbitrary<Mutation>, parse: (bytes: Uint8Array) => void, allowed: (new (...a: never[]) => Error)[]): void {
  let parsed = 0, rejected = 0;
  fc.assert(fc.property(fc.nat(), fc.array(mutations, { minLength: 1, maxLength: 3 }), (which, ms) => {
    const bytes = ms.reduce((b, m) => m(b), files[which % files.length]!);
    try {
      parse(bytes);
      parsed++;
    } catch (err) {
      if (!allowed.some((E) => err instanceof E)) throw err;
      rejected++;
    }
  }), params);
  // Both outcomes happen: the mutations reach past the first check.
  expect(rejected).toBeGreaterThan(RUNS / 10);
  expect(parsed + rejected).toBe(RUNS);
}

describe("fuzzing", () => {
  const { train, test } = mnist();
  const images = subset(test, 0, 20), labels = subset(train, 0, 20);
  const idxFiles = [
    writeIdx({ dtype: "u8", dims: [20, 28, 28], data: images.images }),
    writeIdx({ dtype: "u8", dims: [20], data: labels.labels }),
    writeIdx({ dtype: "u8", dims: [20, 28, 28], data: images.images }, { gzip: true }),
    writeIdx({ dtype: "f32", dims: [3, 4], data: Float32Array.from({ length: 12 }, (_, i) => i / 3) }),
    writeIdx({ dtype: "i16", dims: [5], data: Int16Array.of(-3, 0, 7, 32767, -32768) }, { gzip: true }),
  ];

  it(`IDX: ${RUNS} mutated files parse consistently or throw IdxError`, () => {
    fuzz(idxFiles, fc.oneof(truncate, flipBytes, spliceHeader(24), appendJunk, idxDims), (bytes) => {
      const a = parseIdx(bytes, { file: "fuzz.idx" });
      const elements = a.dims.reduce((x, y) => x * y, 1);
      if (a.data.length !== elements) throw new Error(`parsed ${a.data.length} values for dims ${a.dims}`);
    }, [IdxError]);
  }, TIMEOUT);

  it(`MNIST pairs: ${RUNS} mutated image/label files give a dataset or IdxError/DatasetError`, () => {
    const pair = (bytes: Uint8Array) => {
      // The mutated file plays the images or the labels, against an intact partner.
      const asImages = bytes.length > 1000;
      const d = asImages ? datasetFromIdx(bytes, idxFiles[1]!) : datasetFromIdx(idxFiles[0]!, bytes);
      if (d.images.length !== d.count * 784 || d.labels.some((l) => l > 9)) throw new Error("inconsistent dataset");
    };
    fuzz([idxFiles[0]!, idxFiles[1]!, idxFiles[2]!], fc.oneof(truncate, flipBytes, spliceHeader(16), idxDims), pair, [IdxError, DatasetError]);
  }, TIMEOUT);

  it(`model files: ${RUNS} mutated files load as a model or throw SafetensorsError`, async () => {
    const model = await LeNet5.create({ seed: 7 });
    const file = encodeModel(model.getWeights(), { training: { epochs: 1 }, metrics: { test_accuracy: 0.9 } });
    fuzz([file], fc.oneof(truncate, flipBytes, spliceHeader(700), appendJunk, jsonField), (bytes) => {
      const { weights } = decodeModel(bytes, "fuzz.safetensors");
      for (const w of Object.values(weights)) if (!w.every(Number.isFinite)) throw new Error("non-finite weight accepted");
    }, [SafetensorsError]);
  }, TIMEOUT);

  it(`checkpoints: ${Math.ceil(RUNS / 5)} mutated files load or throw SafetensorsError`, async () => {
    const model = await LeNet5.create({ seed: 7 });
    const state = { epoch: 2, batch: 10, lossSum: 1.5, correct: 300, seen: 320, epochSeconds: 0.5, trainSeconds: 3, history: [{ epoch: 1, loss: 0.3, accuracy: 0.9, seconds: 3, imagesPerSecond: 9000 }], rngState: 12345 };
    const file = encodeCheckpoint({ architecture: "lenet5", weights: model.getWeights(), adam: model.getAdamState(), state, settings: { epochs: 5 } });
    const runs = Math.ceil(RUNS / 5);
    let rejected = 0;
    fc.assert(fc.property(fc.array(fc.oneof(truncate, flipBytes, spliceHeader(2500), jsonField), { minLength: 1, maxLength: 2 }), (ms) => {
      try {
        decodeCheckpoint(ms.reduce((b, m) => m(b), file), "fuzz-checkpoint");
      } catch (err) {
        if (!(err instanceof SafetensorsError)) throw err;
        rejected++;
      }
    }), { ...params, numRuns: runs });
    expect(rejected).toBeGreaterThan(runs / 10);
  }, TIMEOUT);
});
