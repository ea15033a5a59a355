// Helpers for the kernel tests (test/kernels/*.test.ts): the kernel module under test, regions in
// WASM memory guarded by canaries, f32-rounded random inputs, a NaN-safe closeness check with
// readable messages, and a run-twice determinism check.
//
// The float kernel tests (conv, pool, dense, elementwise, loss, adam) are the second test layer:
// every WASM kernel (build/lenet.wasm) against its float64 reference in test/ref/kernels.ts. Inputs
// are seeded random f32 values; the reference gets exactly the same f32-rounded values as float64.
// Sizes straddle the f32x4 width (the vectorised dimension runs 1..17) and include LeNet's real
// shapes. Every case also checks that the kernel wrote nothing past its outputs (canaries), left its
// inputs unchanged, overwrote every output element (outputs are pre-filled with NaN; accumulators
// with random values that the reference adds to), and gives bitwise identical results when run twice.
import { allocateRegions, type Region } from "../../src/wasm/arena.js";
import { loadKernels, relaxedWasmUrl, type Kernels } from "../../src/wasm/kernels.js";
import { makeRng, randomArray } from "../ref/random.js";

// vitest.config.ts runs the float kernel tests twice: against the default build and
// (LENET_KERNELS=relaxed, project "relaxed-simd") against the relaxed-SIMD build that --fast-math uses.
export const RELAXED = process.env.LENET_KERNELS === "relaxed";

/** The kernel module under test: build/lenet.wasm, or build/lenet.relaxed.wasm when RELAXED. */
export function loadTestKernels(): Promise<Kernels> {
  return loadKernels(RELAXED ? relaxedWasmUrl : undefined);
}

/** The relative tolerance of the float kernel tests. */
export const RTOL = 1e-5;

/** Elementwise a + b (accumulating kernels: initial contents plus the reference result). */
export function plus(a: Float64Array, b: Float64Array): Float64Array {
  return a.map((x, i) => x + b[i]);
}

/** Value written just past every region; a kernel that writes (or reads) out of bounds disturbs it. */
export const CANARY = 12345.5;
/** Canary elements after each region. */
export const GUARD = 8;

/** A seeded generator per test case, so a case's data does not depend on which cases ran before. */
export function rngFor(label: string): () => number {
  let h = 0x811c9dc5; // FNV-1a
  for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193);
  return makeRng(h >>> 0);
}

/** n uniform values in [lo, hi), rounded to f32: exactly what the kernel will see, as float64. */
export function randF32(rng: () => number, n: number, lo = -1, hi = 1): Float64Array {
  const out = randomArray(rng, n, lo, hi);
  for (let i = 0; i < n; i++) out[i] = Math.fround(out[i]);
  return out;
}

/** Integers uniform in [0, n). */
export function randInt(rng: () => number, count: number, n: number): Int32Array {
  const out = new Int32Array(count);
  for (let i = 0; i < count; i++) out[i] = Math.min(n - 1, Math.floor(rng() * n));
  return out;
}

/** Absolute tolerance for a float32 sum of `terms` products of values in [-1, 1].
 * With random signs, the rounding error of such a sum grows about like terms * u * |typical term|
 * (u = 2^-24 ~ 6e-8: sqrt(terms) roundings, each of size u * |partial sum| ~ u * sqrt(terms)).
 * We allow ~20x that (4e-7 per term), and never less than 1e-5: 1e-5 for the sweeps' short sums,
 * ~1e-4 for LeNet's sums of hundreds of terms, ~1e-2 for conv1's filter gradient (25k terms). A
 * wrong index or a dropped tail changes results by O(0.1..1), far above any of these. */
export function sumAtol(terms: number): number {
  return Math.max(1e-5, 4e-7 * terms);
}

function indexString(i: number, shape: readonly number[] | undefined): string {
  if (shape === undefined || shape.length < 2) return `[${i}]`;
  const idx: number[] = [];
  let r = i;
  for (let d = shape.length - 1; d >= 0; d--) {
    idx.unshift(r % shape[d]);
    r = Math.floor(r / shape[d]);
  }
  return `[${idx.join(",")}] (flat ${i})`;
}

/**
 * Fails unless |got - want| <= atol + rtol * |want| for every element (written so that NaN fails).
 * One error lists the kernel/case `name`, how many elements differ, and the first few of them with
 * their (multi-)index, got and want. Returns the largest finite |got - want| (for logging).
 */
export function expectClose(
  name: string, got: ArrayLike<number>, want: ArrayLike<number>, atol: number, rtol: number,
  shape?: readonly number[],
): number {
  if (got.length !== want.length) throw new Error(`${name}: got ${got.length} elements, want ${want.length}`);
  let bad = 0;
  let nans = 0;
  let maxErr = 0;
  let maxAt = -1;
  const lines: string[] = [];
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i] - want[i]);
    if (Number.isNaN(err)) nans++;
    else if (err > maxErr) {
      maxErr = err;
      maxAt = i;
    }
    if (!(err <= atol + rtol * Math.abs(want[i]))) {
      bad++;
      if (lines.length < 6) {
        lines.push(`  ${indexString(i, shape)}: got ${got[i]}, want ${want[i]}, |diff| ${err}`);
      }
    }
  }
  if (bad > 0) {
    const worst = maxAt < 0 ? "" : `; max |diff| ${maxErr} at ${indexString(maxAt, shape)}`;
    throw new Error(
      `${name}: ${bad} of ${want.length} elements differ (atol ${atol}, rtol ${rtol}${worst}` +
        `${nans > 0 ? `; ${nans} NaN` : ""}). First mismatches:\n${lines.join("\n")}`,
    );
  }
  return maxErr;
}

/** Throws if two bit patterns differ, naming the first differing element. */
export function expectSameBits(name: string, a: Uint32Array, b: Uint32Array): void {
  if (a.length !== b.length) throw new Error(`${name}: ${a.length} vs ${b.length} elements`);
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) {
      throw new Error(
        `${name}: element ${i} differs: 0x${a[i].toString(16)} vs 0x${b[i].toString(16)}`,
      );
    }
  }
}

/**
 * Named regions in one kernel module's memory, planned with src/arena.ts from heap_base, each
 * followed by GUARD canaries. Views are created on every access, so they stay valid if memory grew.
 */
export class Arena<Name extends string> {
  readonly #k: Kernels;
  readonly #regions: Record<Name, Region>;
  readonly #inputs = new Map<Name, Uint32Array>();

  constructor(k: Kernels, lengths: Record<Name, number>) {
    this.#k = k;
    const names = Object.keys(lengths) as Name[];
    const padded = {} as Record<Name, number>;
    for (const n of names) padded[n] = lengths[n] + GUARD;
    const planned = allocateRegions(k.memory, k.heap_base(), padded);
    this.#regions = {} as Record<Name, Region>;
    for (const n of names) {
      this.#regions[n] = { offset: planned[n].offset, length: lengths[n] };
      new Float32Array(k.memory.buffer, planned[n].offset + lengths[n] * 4, GUARD).fill(CANARY);
    }
  }

  /** Byte offset of a region (what the kernels take). */
  ptr(name: Name): number {
    return this.#regions[name].offset;
  }

  f32(name: Name): Float32Array {
    const r = this.#regions[name];
    return new Float32Array(this.#k.memory.buffer, r.offset, r.length);
  }

  i32(name: Name): Int32Array {
    const r = this.#regions[name];
    return new Int32Array(this.#k.memory.buffer, r.offset, r.length);
  }

  /** Bit patterns of a region (a copy). */
  bits(name: Name): Uint32Array {
    const r = this.#regions[name];
    return new Uint32Array(this.#k.memory.buffer, r.offset, r.length).slice();
  }

  /** The region's values as float64 (a copy). */
  read(name: Name): Float64Array {
    return Float64Array.from(this.f32(name));
  }

  /** The region's first `n` elements as int8, uint8 or int16 (regions are sized in 4-byte elements). */
  narrow(name: Name, type: "i8" | "u8" | "i16", n: number): Int8Array | Uint8Array | Int16Array {
    const r = this.#regions[name];
    const Type = { i8: Int8Array, u8: Uint8Array, i16: Int16Array }[type];
    if (n * Type.BYTES_PER_ELEMENT > r.length * 4) throw new Error(`${name}: ${n} ${type} values do not fit in ${r.length * 4} bytes`);
    return new Type(this.#k.memory.buffer, r.offset, n);
  }

  /**
   * Writes a kernel input; verify() later checks the kernel left it unchanged. f32 and i32 inputs
   * fill the region; i8, u8 and i16 ones (packed several to an element) may leave its end unused.
   */
  input(name: Name, values: ArrayLike<number>, type: "f32" | "i32" | "i8" | "u8" | "i16" = "f32"): void {
    const wide = type === "f32" || type === "i32";
    if (wide && values.length !== this.#regions[name].length) {
      throw new Error(`input ${name}: ${values.length} values for a region of ${this.#regions[name].length}`);
    }
    (type === "f32" ? this.f32(name) : type === "i32" ? this.i32(name) : this.narrow(name, type, values.length)).set(values);
    this.#inputs.set(name, this.bits(name));
  }

  /** Writes an output (or in-place) region: a constant (e.g. NaN) or initial values. */
  fill(name: Name, values: ArrayLike<number> | number): void {
    if (typeof values === "number") this.f32(name).fill(values);
    else this.f32(name).set(values);
  }

  /** Throws if any canary changed or any input region was modified. */
  verify(label: string): void {
    const mem = this.#k.memory.buffer;
    for (const name of Object.keys(this.#regions) as Name[]) {
      const r = this.#regions[name];
      const guard = new Float32Array(mem, r.offset + r.length * 4, GUARD);
      for (let i = 0; i < GUARD; i++) {
        if (guard[i] !== CANARY) {
          throw new Error(
            `${label}: wrote past the end of ${name} (${r.length} elements): ` +
              `${name}[${r.length + i}] = ${guard[i]}, canary ${CANARY}`,
          );
        }
      }
    }
    for (const [name, before] of this.#inputs) {
      const now = this.bits(name);
      for (let i = 0; i < now.length; i++) {
        if (now[i] !== before[i]) {
          const was = new Float32Array(before.buffer)[i];
          throw new Error(`${label}: modified its input ${name}[${i}]: ${was} -> ${this.f32(name)[i]}`);
        }
      }
    }
  }

  /**
   * prepare(); run(); verify(), twice, and checks that both runs left bitwise identical `outputs`
   * (and returned the same value). The outputs hold the second run's results afterwards.
   */
  runTwice<R>(label: string, outputs: readonly Name[], prepare: () => void, run: () => R): R {
    prepare();
    const r1 = run();
    this.verify(label);
    const first = outputs.map((o) => this.bits(o));
    prepare();
    const r2 = run();
    this.verify(label);
    outputs.forEach((o, j) => expectSameBits(`${label}: ${o} not deterministic (run 1 vs run 2)`, first[j], this.bits(o)));
    if (!Object.is(r1, r2)) throw new Error(`${label}: returned ${String(r1)} then ${String(r2)}`);
    return r2;
  }
}

/** [lo, lo+1, ..., hi]. */
export function range(lo: number, hi: number): number[] {
  return Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);
}
