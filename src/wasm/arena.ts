// Plans every tensor's place in WASM memory once: 16-byte aligned regions, allocated in one step.
// Memory never grows after this, so typed-array views over it stay valid.

/** A planned region: byte offset and length in f32 elements. */
export interface Region {
  readonly offset: number;
  readonly length: number;
}

/** Rounds a count of f32 elements up to a whole number of f32x4 vectors (16 bytes). */
export function alignedLength(length: number): number {
  return Math.ceil(length / 4) * 4;
}

/**
 * Lays out the named regions (lengths in 4-byte elements) from `base`, grows `memory` to hold
 * them, and returns their offsets.
 */
export function allocateRegions<Name extends string>(
  memory: WebAssembly.Memory,
  base: number,
  lengths: Record<Name, number>,
): Record<Name, Region> {
  const regions = {} as Record<Name, Region>;
  let offset = Math.ceil(base / 16) * 16;
  for (const name of Object.keys(lengths) as Name[]) {
    regions[name] = { offset, length: lengths[name] };
    offset += alignedLength(lengths[name]) * 4;
  }
  const pageBytes = 65536;
  const needed = Math.ceil(offset / pageBytes) - memory.buffer.byteLength / pageBytes;
  if (needed > 0) {
    try {
      memory.grow(needed);
    } catch {
      throw new RangeError(`cannot allocate ${(offset / 2 ** 20).toFixed(0)} MB of WebAssembly memory: use a smaller batch size`);
    }
  }
  return regions;
}
