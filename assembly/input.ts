// The batch's images into the input region: uint8 pixels through a 256-entry f32 table (the
// network's scaling, e.g. v / 255), into the 28x28 interior of each 32x32 input slot. Scalar: WASM
// SIMD has no gather, and a table keeps the values bit-identical to the JS scaling they replace.
import { at } from "./simd";

// pixels (B,28,28) u8, table (256) f32 -> input (B,32,32) f32, rows 2..29 and columns 2..29 of
// each slot; the border is left as it is (the caller fills it once).
export function images_to_input(input: usize, pixels: usize, table: usize, B: i32): void {
  for (let b = 0; b < B; b++) {
    const src = pixels + <usize>(b * 784);
    const dst = at(input, b * 1024 + 2 * 32 + 2);
    for (let row = 0; row < 28; row++) {
      const s = src + <usize>(row * 28), d = at(dst, row * 32);
      for (let c = 0; c < 28; c += 4) {
        store<f32>(at(d, c), load<f32>(at(table, load<u8>(s + <usize>c))));
        store<f32>(at(d, c + 1), load<f32>(at(table, load<u8>(s + <usize>(c + 1)))));
        store<f32>(at(d, c + 2), load<f32>(at(table, load<u8>(s + <usize>(c + 2)))));
        store<f32>(at(d, c + 3), load<f32>(at(table, load<u8>(s + <usize>(c + 3)))));
      }
    }
  }
}
