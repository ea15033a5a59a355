// The batch's images into the input region: uint8 pixels through a 256-entry f32 table (the
// network's scaling, e.g. v / 255), into the interior of each input slot. Scalar: WASM SIMD has no
// gather, and a table keeps the values bit-identical to the JS scaling they replace.
import { at } from "./simd";

// pixels (B,side,side) u8, table (256) f32 -> input (B,slot,slot) f32, rows and columns pad..pad+side-1
// of each slot, pad = (slot - side) / 2; the border is left as it is (the caller fills it once).
// side must be a multiple of 4 (the row loop is unrolled by 4): LeNet-5's 28 in a 32x32 slot.
export function images_to_input(input: usize, pixels: usize, table: usize, B: i32, side: i32, slot: i32): void {
  const pad = (slot - side) >> 1;
  for (let b = 0; b < B; b++) {
    const src = pixels + <usize>(b * side * side);
    const dst = at(input, b * slot * slot + pad * slot + pad);
    for (let row = 0; row < side; row++) {
      const s = src + <usize>(row * side), d = at(dst, row * slot);
      for (let c = 0; c < side; c += 4) {
        store<f32>(at(d, c), load<f32>(at(table, load<u8>(s + <usize>c))));
        store<f32>(at(d, c + 1), load<f32>(at(table, load<u8>(s + <usize>(c + 1)))));
        store<f32>(at(d, c + 2), load<f32>(at(table, load<u8>(s + <usize>(c + 2)))));
        store<f32>(at(d, c + 3), load<f32>(at(table, load<u8>(s + <usize>(c + 3)))));
      }
    }
  }
}
