// The batch's images into the input region, into the interior of each input slot: for the f32
// model, uint8 pixels through a 256-entry f32 table (the network's scaling, e.g. v / 255), scalar
// (WASM SIMD has no gather, and a table keeps the values bit-identical to the JS scaling they
// replace); for the int8 model, the bytes themselves.
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

// pixels (B,side,side) u8 -> slots (B,slot,slot) u8, rows and columns pad..pad+side-1 of each slot,
// pad = (slot - side) / 2; the border is left as it is (the caller zeroes it once). The int8 model's
// input (its c1 kernel reads raw pixels): one call per batch, where copying each 28-byte row from
// JS cost 6% of int8 inference. Rows go 16, then 4, then 1 byte at a time, never past their end.
export function pixels_to_slots(slots: usize, pixels: usize, B: i32, side: i32, slot: i32): void {
  const pad = (slot - side) >> 1;
  for (let b = 0; b < B; b++) {
    let s = pixels + <usize>(b * side * side), d = slots + <usize>(b * slot * slot + pad * slot + pad);
    for (let row = 0; row < side; row++, s += <usize>side, d += <usize>slot) {
      let c = 0;
      for (; c + 16 <= side; c += 16) v128.store(d + <usize>c, v128.load(s + <usize>c));
      for (; c + 4 <= side; c += 4) store<u32>(d + <usize>c, load<u32>(s + <usize>c));
      for (; c < side; c++) store<u8>(d + <usize>c, load<u8>(s + <usize>c));
    }
  }
}
