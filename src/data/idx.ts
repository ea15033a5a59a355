/**
 * MNIST IDX file format: parser and writer.
 *
 * Layout: bytes 0-1 are 0x00, byte 2 is the dtype code, byte 3 the rank,
 * then `rank` big-endian uint32 dims, then the data (big-endian, row-major).
 * Files may be gzipped (the official MNIST downloads are `.gz`).
 *
 * Runs unchanged in Node and browsers: no `node:` imports, bytes in and out.
 */
import { gunzipSync, gzipSync } from "fflate";

/** CRC-32 (IEEE, as gzip uses), table-driven. */
const CRC_TABLE = Uint32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** Deflate's largest possible compression ratio (258-byte matches coded in ~2 bits each). */
const MAX_DEFLATE_RATIO = 1032;

/** Element type of an IDX array. */
export type IdxDtype = "u8" | "i8" | "i16" | "i32" | "f32" | "f64";

/** Typed array holding IDX data; its class always matches the dtype. */
export type IdxData = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

/** A decoded IDX array: dtype, dims (outermost first) and row-major data. */
export interface IdxArray {
  dtype: IdxDtype;
  dims: number[];
  data: IdxData;
}

/** Machine-readable reason for an {@link IdxError}. */
export type IdxErrorCode =
  | "truncated"
  | "bad-magic"
  | "unknown-dtype"
  | "size-mismatch"
  | "trailing-bytes"
  | "gzip"
  | "too-large"
  | "dtype-mismatch"
  | "bad-argument";

/** Options for {@link parseIdx}. */
export interface ParseIdxOptions {
  /** File name used in error messages. */
  file?: string;
  /** Largest gunzipped size accepted, in bytes (default 1 GiB). Guards against gzip bombs. */
  maxBytes?: number;
  /**
   * Gunzip into a SharedArrayBuffer (when the input is gzipped and the engine has shared memory),
   * so that training threads can use the u8 data where it is, without another copy.
   */
  shared?: boolean;
}

/** Error thrown for malformed IDX input or invalid arguments. */
export class IdxError extends Error {
  readonly name = "IdxError";
  /** What went wrong, for programmatic handling. */
  readonly code: IdxErrorCode;
  /** File name given in the options, if any. */
  readonly file: string | undefined;
  /** Byte offset of the problem (in the gunzipped data for gzipped input), if known. */
  readonly offset: number | undefined;

  /** `message` should already say what, where and what to do; see {@link parseIdx}. */
  constructor(
    code: IdxErrorCode,
    message: string,
    details: { file?: string | undefined; offset?: number | undefined; cause?: unknown } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.file = details.file;
    this.offset = details.offset;
  }
}

interface DtypeInfo {
  name: IdxDtype;
  code: number;
  size: number;
  ctor: { new (length: number): IdxData; readonly name: string };
}

/** IDX dtype codes (byte 2 of the header). */
const DTYPES: readonly DtypeInfo[] = [
  { code: 0x08, name: "u8", size: 1, ctor: Uint8Array },
  { code: 0x09, name: "i8", size: 1, ctor: Int8Array },
  { code: 0x0b, name: "i16", size: 2, ctor: Int16Array },
  { code: 0x0c, name: "i32", size: 4, ctor: Int32Array },
  { code: 0x0d, name: "f32", size: 4, ctor: Float32Array },
  { code: 0x0e, name: "f64", size: 8, ctor: Float64Array },
];

const BY_CODE = new Map(DTYPES.map((d) => [d.code, d]));
const BY_NAME = new Map(DTYPES.map((d) => [d.name, d]));

const DEFAULT_MAX_BYTES = 2 ** 30;
const MAX_DIM = 0xffffffff;

const hex = (b: number): string => "0x" + b.toString(16).padStart(2, "0");

/**
 * The typed array's class name. Uses Symbol.toStringTag rather than instanceof
 * so arrays from another realm (iframe, vm) and Node Buffers are recognised.
 */
function typedArrayTag(x: unknown): string | undefined {
  if (!ArrayBuffer.isView(x)) return undefined;
  return (x as unknown as { [Symbol.toStringTag]: string | undefined })[Symbol.toStringTag];
}

/** True when `bytes` starts with the gzip magic 0x1f 0x8b. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * Parse an IDX file, gunzipping it first if it starts with the gzip magic.
 *
 * u8 data is returned as a zero-copy view of the (possibly gunzipped) input;
 * other dtypes are decoded into a fresh typed array in host byte order.
 * The header is checked against the byte length before anything is allocated.
 *
 * @throws {IdxError} on malformed input; the message names `options.file`.
 */
export function parseIdx(bytes: Uint8Array, options: ParseIdxOptions = {}): IdxArray {
  const file = options.file;
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  let inflated = false;
  const fail = (code: IdxErrorCode, offset: number | undefined, what: string, cause?: unknown): IdxError => {
    const where = offset === undefined ? "" : ` at byte ${offset}${inflated ? " of the gunzipped data" : ""}`;
    return new IdxError(code, `${file ?? "IDX data"}: ${code}${where}: ${what}`, { file, offset, cause });
  };

  if (typedArrayTag(bytes) !== "Uint8Array") {
    throw fail("bad-argument", undefined, `expected a Uint8Array, got ${typedArrayTag(bytes) ?? typeof bytes}.`);
  }
  if (typeof maxBytes !== "number" || !(maxBytes >= 0)) {
    throw fail("bad-argument", undefined, `maxBytes must be a non-negative number, got ${String(maxBytes)}.`);
  }

  if (isGzip(bytes)) {
    // 10-byte gzip header + 8-byte trailer (CRC32, ISIZE) is the minimum.
    if (bytes.length < 18) {
      throw fail("gzip", bytes.length, `gzip data is only ${bytes.length} bytes, too short to be valid. Re-download the file.`);
    }
    // ISIZE is the uncompressed size mod 2^32; fflate allocates exactly this much,
    // so checking it first keeps a gzip bomb from allocating.
    const n = bytes.length;
    const isize = (bytes[n - 4]! | (bytes[n - 3]! << 8) | (bytes[n - 2]! << 16) | (bytes[n - 1]! << 24)) >>> 0;
    if (isize > maxBytes) {
      throw fail(
        "too-large",
        n - 4,
        `gzip trailer says the data inflates to ${isize} bytes, more than maxBytes = ${maxBytes}. ` +
          `Raise the maxBytes option if this is expected; otherwise the gzip file is truncated or corrupt.`,
      );
    }
    // Deflate cannot expand data more than 1032:1, so a larger claim is a corrupt trailer: refuse
    // it before fflate allocates that much.
    if (isize > (n - 18) * MAX_DEFLATE_RATIO + 1024) {
      throw fail("gzip", n - 4, `gzip trailer says ${n} compressed bytes inflate to ${isize}, more than deflate can encode. The file is corrupt; re-download it.`);
    }
    let out: Uint8Array;
    try {
      const into = options.shared && typeof SharedArrayBuffer !== "undefined" ? new Uint8Array(new SharedArrayBuffer(isize)) : undefined;
      out = into ? gunzipSync(bytes, { out: into }) : gunzipSync(bytes);
    } catch (cause) {
      const why = cause instanceof Error ? cause.message : String(cause);
      throw fail("gzip", undefined, `cannot gunzip (${why}). The file is corrupt or truncated; re-download it.`, cause);
    }
    // Shorter output than ISIZE means a corrupt stream (or several gzip members,
    // of which fflate's gunzipSync reads only the first).
    if (out.length !== isize) {
      throw fail("gzip", undefined, `gzip trailer says ${isize} bytes but the data inflates to ${out.length}. The file is corrupt; re-download it.`);
    }
    // fflate neither checks the CRC nor notices output longer than ISIZE (it truncates): the CRC does.
    const crc = (bytes[n - 8]! | (bytes[n - 7]! << 8) | (bytes[n - 6]! << 16) | (bytes[n - 5]! << 24)) >>> 0;
    if (crc32(out) !== crc) {
      throw fail("gzip", n - 8, `the gzip checksum (CRC-32) does not match the data. The file is corrupt; re-download it.`);
    }
    bytes = out;
    inflated = true;
  }

  const n = bytes.length;
  if (n < 4) {
    throw fail("truncated", n, `file has ${n} bytes, an IDX header needs at least 4. Is the file empty or cut short? Re-download it.`);
  }
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw fail(
      "bad-magic",
      0,
      `is this an MNIST IDX file? expected bytes 0-1 to be 0x00 0x00, found ${hex(bytes[0]!)} ${hex(bytes[1]!)}.`,
    );
  }
  const info = BY_CODE.get(bytes[2]!);
  if (info === undefined) {
    const known = DTYPES.map((d) => `${hex(d.code)} ${d.name}`).join(", ");
    throw fail("unknown-dtype", 2, `unknown dtype code ${hex(bytes[2]!)}; expected one of ${known}. Is this an MNIST IDX file?`);
  }
  const rank = bytes[3]!;
  const headerBytes = 4 + 4 * rank;
  if (n < headerBytes) {
    throw fail("truncated", n, `header says rank ${rank}, which needs ${headerBytes} header bytes, file has ${n} bytes. Re-download the file.`);
  }

  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  for (let i = 0; i < rank; i++) dims.push(view.getUint32(4 + 4 * i, false));

  // Plain float product: with rank <= 255 and dims < 2^32 it may overflow to
  // Infinity, which the MAX_SAFE_INTEGER check below catches. A zero dim wins.
  const elements = dims.includes(0) ? 0 : dims.reduce((a, b) => a * b, 1);
  const dataBytes = elements * info.size;
  const expected = headerBytes + dataBytes;
  const shape = `${rank === 0 ? "scalar" : dims.join("x")} ${info.name}`;
  if (!Number.isSafeInteger(expected)) {
    throw fail("truncated", n, `header says ${shape} = more than 2^53 bytes, file has ${n} bytes. The header is corrupt; re-download the file.`);
  }
  if (n < expected) {
    throw fail("truncated", n, `header says ${shape} = ${expected} bytes, file has ${n} bytes. Re-download the file.`);
  }
  if (n > expected) {
    throw fail(
      "trailing-bytes",
      expected,
      `header says ${shape} = ${expected} bytes, file has ${n} bytes (${n - expected} trailing byte${n - expected === 1 ? "" : "s"}). ` +
        `The file is corrupt or not an IDX file; re-download it.`,
    );
  }

  if (info.name === "u8") {
    return { dtype: "u8", dims, data: bytes.subarray(headerBytes, expected) };
  }
  const data = new info.ctor(elements);
  const read = reader(view, info.name);
  for (let i = 0, p = headerBytes; i < elements; i++, p += info.size) data[i] = read(p);
  return { dtype: info.name, dims, data };
}

/** Big-endian element reader for one dtype. */
function reader(view: DataView, dtype: IdxDtype): (offset: number) => number {
  switch (dtype) {
    case "u8":
      return (p) => view.getUint8(p);
    case "i8":
      return (p) => view.getInt8(p);
    case "i16":
      return (p) => view.getInt16(p, false);
    case "i32":
      return (p) => view.getInt32(p, false);
    case "f32":
      return (p) => view.getFloat32(p, false);
    case "f64":
      return (p) => view.getFloat64(p, false);
  }
}

/** Big-endian element writer for one dtype. */
function writer(view: DataView, dtype: IdxDtype): (offset: number, value: number) => void {
  switch (dtype) {
    case "u8":
      return (p, v) => view.setUint8(p, v);
    case "i8":
      return (p, v) => view.setInt8(p, v);
    case "i16":
      return (p, v) => view.setInt16(p, v, false);
    case "i32":
      return (p, v) => view.setInt32(p, v, false);
    case "f32":
      return (p, v) => view.setFloat32(p, v, false);
    case "f64":
      return (p, v) => view.setFloat64(p, v, false);
  }
}

/**
 * Encode an IDX array (big-endian), optionally gzipped with a zero mtime so
 * the output is deterministic.
 *
 * @throws {IdxError} "bad-argument" for an unknown dtype or invalid dims,
 *   "dtype-mismatch" when the data's class does not match the dtype,
 *   "size-mismatch" when data.length is not the product of dims.
 */
export function writeIdx(array: IdxArray, options: { gzip?: boolean } = {}): Uint8Array {
  const fail = (code: IdxErrorCode, what: string): IdxError => new IdxError(code, `writeIdx: ${code}: ${what}`);
  const info = BY_NAME.get(array?.dtype);
  if (info === undefined) {
    throw fail("bad-argument", `unknown dtype ${JSON.stringify(array?.dtype)}; expected one of ${DTYPES.map((d) => d.name).join(", ")}.`);
  }
  const { dims, data } = array;
  if (!Array.isArray(dims) || dims.length > 255) {
    throw fail("bad-argument", `dims must be an array of at most 255 sizes (the rank is one byte).`);
  }
  for (const d of dims) {
    if (!Number.isInteger(d) || d < 0 || d > MAX_DIM) {
      throw fail("bad-argument", `dims [${dims.join(", ")}] must be integers in 0..${MAX_DIM} (each is a uint32).`);
    }
  }
  const tag = typedArrayTag(data);
  if (tag !== info.ctor.name) {
    throw fail("dtype-mismatch", `dtype ${info.name} needs a ${info.ctor.name}, got ${tag ?? typeof data}. Convert the data or change the dtype.`);
  }
  const elements = dims.includes(0) ? 0 : dims.reduce((a, b) => a * b, 1);
  if (data.length !== elements) {
    throw fail("size-mismatch", `dims [${dims.join(", ")}] hold ${elements} elements but data has ${data.length}.`);
  }

  const headerBytes = 4 + 4 * dims.length;
  const out = new Uint8Array(headerBytes + elements * info.size);
  const view = new DataView(out.buffer);
  out[2] = info.code;
  out[3] = dims.length;
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  if (info.name === "u8") {
    out.set(data, headerBytes);
  } else {
    const write = writer(view, info.name);
    for (let i = 0, p = headerBytes; i < elements; i++, p += info.size) write(p, data[i]!);
  }
  return options.gzip === true ? gzipSync(out, { mtime: 0 }) : out;
}
