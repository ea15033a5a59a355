/**
 * Reader and writer for the safetensors format (float32 and int8 tensors).
 *
 * Layout: an 8-byte little-endian unsigned header length N, then N bytes of
 * UTF-8 JSON, then the raw data buffer. The JSON maps each tensor name to
 * `{"dtype":"F32","shape":[...],"data_offsets":[begin,end]}` (or "I8"; offsets relative
 * to the data buffer) plus an optional `"__metadata__"` object of strings.
 *
 * Platform-neutral: Uint8Array in and out, no Node imports, so it runs in
 * browsers too. All floats go through DataView little-endian, so files are
 * identical on any host.
 */

/** A float32 ("F32") or int8 ("I8") tensor: row-major `data` with `data.length === product(shape)`. */
export interface Tensor {
  shape: number[];
  data: Float32Array | Int8Array;
}

/** A tensor the caller expects to find in a file: its name, exact shape and dtype (default "F32"). */
export interface TensorSpec {
  name: string;
  shape: number[];
  dtype?: Dtype;
}

/** The dtypes this reader and writer support. */
export type Dtype = "F32" | "I8";
const BYTES: Record<Dtype, number> = { F32: 4, I8: 1 };
const dtypeOf = (data: Float32Array | Int8Array): Dtype => (data instanceof Int8Array ? "I8" : "F32");

/**
 * Thrown for invalid input to `encodeSafetensors` or a malformed,
 * hostile or unexpected file in `decodeSafetensors`. The message starts
 * with the file name (or "safetensors" when none was given) and, when one
 * tensor is at fault, its name.
 */
export class SafetensorsError extends Error {
  readonly name = "SafetensorsError";
  /** The file name passed in `DecodeOptions.file`, if any. */
  readonly file: string | undefined;
  /** The tensor at fault, if the problem is with a single tensor. */
  readonly tensor: string | undefined;

  /**
   * @param message what is wrong and what to do about it
   * @param file the file being read, used as the message prefix
   * @param tensor the tensor at fault, named in the message
   */
  constructor(message: string, file?: string, tensor?: string) {
    const where = tensor === undefined ? "" : `tensor ${show(tensor)}: `;
    super(`${file ?? "safetensors"}: ${where}${message}`);
    this.file = file;
    this.tensor = tensor;
  }
}

/** Options for {@link decodeSafetensors}. */
export interface DecodeOptions {
  /** File name used in error messages. */
  file?: string;
  /**
   * If given, the file must contain exactly these tensors with exactly these
   * shapes: no missing names, no other shapes, no extra names. A function gets the metadata and
   * returns them (when the metadata says what the file holds, such as which architecture).
   */
  expect?: readonly TensorSpec[] | ((metadata: Record<string, string>) => readonly TensorSpec[]);
}

// Same cap as the reference Rust implementation: a header bigger than this is
// not a real model, and refusing it bounds the work a hostile file can cause.
const MAX_HEADER_BYTES = 100_000_000;
const METADATA_KEY = "__metadata__";
const REEXPORT_HINT = "is this the right model file? re-export it from the model it belongs to";

/**
 * Serialize float32 and int8 tensors (laid out contiguously, in the given order) and
 * optional string metadata to safetensors bytes. The JSON header is padded
 * with spaces so the data buffer starts at an 8-byte aligned offset.
 *
 * @throws SafetensorsError if a shape is invalid, a tensor's data length is
 *   not the product of its shape, a value is NaN or Infinity (the file would
 *   not load back), a tensor is named "__metadata__", or a metadata value is
 *   not a string.
 */
export function encodeSafetensors(
  tensors: ReadonlyMap<string, Tensor> | Record<string, Tensor>,
  metadata?: Record<string, string>,
): Uint8Array {
  const entries: [string, Tensor][] =
    tensors instanceof Map ? [...(tensors as ReadonlyMap<string, Tensor>)] : Object.entries(tensors);

  const header: Record<string, unknown> = {};
  if (metadata !== undefined) {
    for (const [key, value] of Object.entries(metadata)) {
      if (typeof value !== "string") {
        throw new SafetensorsError(`metadata ${show(key)} must be a string, got ${typeof value}`);
      }
    }
    header[METADATA_KEY] = { ...metadata };
  }

  let dataBytes = 0;
  for (const [name, { shape, data }] of entries) {
    if (name === METADATA_KEY) {
      throw new SafetensorsError(`"${METADATA_KEY}" is reserved and cannot be a tensor name`);
    }
    if (!isShape(shape)) {
      throw new SafetensorsError(`shape must be non-negative integers, got ${show(shape)}`, undefined, name);
    }
    const count = product(shape);
    if (data.length !== count) {
      throw new SafetensorsError(
        `shape ${show(shape)} needs ${count} values but data has ${data.length}`,
        undefined,
        name,
      );
    }
    const bad = data.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) {
      throw new SafetensorsError(`value at index ${bad} is ${data[bad]}; refusing to write non-finite weights`, undefined, name);
    }
    // Object.defineProperty so a tensor named "__proto__" is stored as a key.
    const dtype = dtypeOf(data);
    Object.defineProperty(header, name, {
      value: { dtype, shape, data_offsets: [dataBytes, dataBytes + BYTES[dtype] * count] },
      enumerable: true,
      writable: true,
      configurable: true,
    });
    dataBytes += BYTES[dtype] * count;
  }

  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerLen = Math.ceil(json.length / 8) * 8; // 8 + headerLen is then 8-aligned
  const out = new Uint8Array(8 + headerLen + dataBytes);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerLen), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLen); // pad with spaces

  let pos = 8 + headerLen;
  for (const [, { data }] of entries) {
    if (data instanceof Int8Array) {
      out.set(new Uint8Array(data.buffer, data.byteOffset, data.length), pos);
      pos += data.length;
    } else for (let i = 0; i < data.length; i++, pos += 4) view.setFloat32(pos, data[i], true);
  }
  return out;
}

/**
 * Parse safetensors bytes holding float32 and int8 tensors. Every check happens before
 * any tensor is allocated, and the tensors are checked not to overlap, so
 * decoding never allocates more than the input size. Each returned
 * Float32Array or Int8Array is a fresh copy, independent of `bytes`.
 *
 * Checks, in order: at least 8 bytes; header length fits the file and is at
 * most 100 MB; header is a UTF-8 JSON object; `__metadata__` (if present) is
 * an object of strings; each entry has dtype "F32" or "I8", a shape of non-negative
 * integers and in-range data_offsets whose size matches the shape; tensors
 * do not overlap; no value is NaN or Infinity; then `options.expect`.
 *
 * @returns the tensors in header order, and the metadata ({} if absent)
 * @throws SafetensorsError naming the file, the tensor and what to do
 */
export function decodeSafetensors(
  bytes: Uint8Array,
  options: DecodeOptions = {},
): { tensors: Map<string, Tensor>; metadata: Record<string, string> } {
  const { file, expect } = options;
  const fail = (message: string, tensor?: string): SafetensorsError => new SafetensorsError(message, file, tensor);

  if (bytes.length < 8) {
    throw fail(`file is ${bytes.length} bytes, too short for the 8-byte header length; is it truncated?`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen64 = view.getBigUint64(0, true);
  if (headerLen64 > BigInt(MAX_HEADER_BYTES)) {
    throw fail(`header length ${headerLen64} exceeds the ${MAX_HEADER_BYTES}-byte limit; not a safetensors file?`);
  }
  const headerLen = Number(headerLen64);
  if (headerLen > bytes.length - 8) {
    throw fail(`header length ${headerLen} runs past the end of the ${bytes.length}-byte file; is it truncated?`);
  }

  let header: unknown;
  try {
    const text = new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + headerLen));
    header = JSON.parse(text);
  } catch (e) {
    throw fail(`header is not valid UTF-8 JSON (${e instanceof Error ? e.message : String(e)}); not a safetensors file?`);
  }
  if (!isObject(header)) {
    throw fail(`header must be a JSON object, got ${Array.isArray(header) ? "an array" : show(header)}`);
  }

  let metadata: Record<string, string> = {};
  if (Object.hasOwn(header, METADATA_KEY)) {
    const meta = header[METADATA_KEY];
    if (!isObject(meta)) throw fail(`"${METADATA_KEY}" must be an object of strings, got ${show(meta)}`);
    for (const [key, value] of Object.entries(meta)) {
      if (typeof value !== "string") {
        throw fail(`"${METADATA_KEY}" value ${show(key)} must be a string, got ${show(value)}`);
      }
    }
    // fromEntries defines own properties, so a "__proto__" key stays a plain key.
    metadata = Object.fromEntries(Object.entries(meta as Record<string, string>));
  }

  const dataStart = 8 + headerLen;
  const dataLen = bytes.length - dataStart;
  const layout: { name: string; dtype: Dtype; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, entry] of Object.entries(header)) {
    if (name === METADATA_KEY) continue;
    if (!isObject(entry)) throw fail(`entry must be an object, got ${show(entry)}`, name);
    const { dtype, shape, data_offsets: offsets } = entry;
    if (dtype !== "F32" && dtype !== "I8") {
      throw fail(`dtype is ${show(dtype)} but only "F32" and "I8" are supported; re-export the tensors as float32`, name);
    }
    if (!isShape(shape)) throw fail(`shape must be an array of non-negative integers, got ${show(shape)}`, name);
    if (
      !Array.isArray(offsets) ||
      offsets.length !== 2 ||
      !Number.isSafeInteger(offsets[0]) ||
      !Number.isSafeInteger(offsets[1]) ||
      !(0 <= offsets[0] && offsets[0] <= offsets[1] && offsets[1] <= dataLen)
    ) {
      throw fail(`data_offsets ${show(offsets)} must be [begin, end] with 0 <= begin <= end <= ${dataLen} (data size); is the file truncated?`, name);
    }
    const [begin, end] = offsets as [number, number];
    const count = product(shape);
    if (end - begin !== BYTES[dtype] * count) {
      throw fail(`shape ${show(shape)} needs ${BYTES[dtype] * count} bytes but data_offsets span ${end - begin}`, name);
    }
    layout.push({ name, dtype, shape, begin, end });
  }

  // Overlapping tensors would let a small file decode into huge output.
  const byBegin = [...layout].sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < byBegin.length; i++) {
    const prev = byBegin[i - 1];
    const cur = byBegin[i];
    if (cur.begin < prev.end) {
      throw fail(`data_offsets [${cur.begin}, ${cur.end}] overlap tensor ${show(prev.name)} [${prev.begin}, ${prev.end}]`, cur.name);
    }
  }

  const tensors = new Map<string, Tensor>();
  for (const { name, dtype, shape, begin, end } of layout) {
    if (dtype === "I8") {
      const data = new Int8Array(end - begin); // a copy: bytes may be a view into a shared buffer (Node's Buffer pool)
      data.set(new Int8Array(bytes.buffer, bytes.byteOffset + dataStart + begin, end - begin));
      tensors.set(name, { shape, data });
      continue;
    }
    const data = new Float32Array((end - begin) / 4);
    for (let i = 0, pos = dataStart + begin; i < data.length; i++, pos += 4) {
      const v = view.getFloat32(pos, true);
      if (!Number.isFinite(v)) throw fail(`value at index ${i} is ${v}; the weights are corrupt, re-export them`, name);
      data[i] = v;
    }
    tensors.set(name, { shape, data });
  }

  if (expect !== undefined) checkExpected(tensors, typeof expect === "function" ? expect(metadata) : expect, fail);
  return { tensors, metadata };
}

/** Require exactly the expected names with exactly the expected shapes. */
function checkExpected(
  tensors: Map<string, Tensor>,
  expect: readonly TensorSpec[],
  fail: (message: string, tensor?: string) => SafetensorsError,
): void {
  const expectedNames = new Set(expect.map((s) => s.name));
  for (const { name, shape, dtype = "F32" } of expect) {
    const found = tensors.get(name);
    if (found === undefined) {
      throw fail(`missing (expected shape ${show(shape)}; file has ${listNames([...tensors.keys()])}); ${REEXPORT_HINT}`, name);
    }
    if (!sameShape(found.shape, shape)) {
      throw fail(`expected shape ${show(shape)} but found ${show(found.shape)}; ${REEXPORT_HINT}`, name);
    }
    if (dtypeOf(found.data) !== dtype) {
      throw fail(`expected dtype "${dtype}" but found "${dtypeOf(found.data)}"; ${REEXPORT_HINT}`, name);
    }
  }
  for (const name of tensors.keys()) {
    if (!expectedNames.has(name)) {
      throw fail(`unexpected (expected only ${listNames([...expectedNames])}); ${REEXPORT_HINT}`, name);
    }
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function isShape(v: unknown): v is number[] {
  return Array.isArray(v) && v.every((d) => Number.isSafeInteger(d) && d >= 0);
}

function product(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** JSON for messages, cut short so a hostile header cannot bloat them. */
function show(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

function listNames(names: string[]): string {
  if (names.length === 0) return "no tensors";
  const shown = names.slice(0, 8).map(show).join(", ");
  return names.length > 8 ? `${shown}, ... (${names.length} in all)` : shown;
}
