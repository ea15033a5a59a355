// Generated pictures for the image-folder tests: three shapes (circle, cross, square) in RGB, of
// random size, colours, position, extent and stroke width, seeded.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { encode } from "fast-png";
import { Rng } from "../src/model/rng.js";

export const SHAPES = ["circle", "cross", "square"] as const;

/**
 * An RGB picture of a shape: random size (36..80 pixels), colours (dark ink on light paper or the
 * reverse), position, extent and stroke width. Not 28x28 grey: every one goes through preprocessing.
 */
export function shapePicture(shape: (typeof SHAPES)[number], rng: Rng): Uint8Array {
  const side = 36 + rng.int(45), light = rng.next() < 0.5;
  const paper = light ? [200 + rng.int(56), 200 + rng.int(56), 180 + rng.int(76)] : [rng.int(50), rng.int(50), rng.int(60)];
  const ink = light ? [rng.int(80), rng.int(80), 40 + rng.int(120)] : [180 + rng.int(76), 200 + rng.int(56), rng.int(256)];
  const r = side * (0.22 + 0.15 * rng.next()), cx = side / 2 + (rng.next() - 0.5) * side * 0.2, cy = side / 2 + (rng.next() - 0.5) * side * 0.2;
  const width = 1.5 + rng.next() * side * 0.04;
  const data = new Uint8Array(side * side * 3);
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const dx = x + 0.5 - cx, dy = y + 0.5 - cy;
      const on = shape === "circle" ? Math.abs(Math.hypot(dx, dy) - r) < width
        : shape === "cross" ? Math.max(Math.abs(dx), Math.abs(dy)) < r && (Math.abs(dx - dy) < width * 1.4 || Math.abs(dx + dy) < width * 1.4)
        : Math.abs(Math.max(Math.abs(dx), Math.abs(dy)) - r) < width;
      data.set(on ? ink : paper, (y * side + x) * 3);
    }
  }
  return encode({ width: side, height: side, data, channels: 3, depth: 8 });
}

/** dir/split/<shape>/<shape>-<i>.png for `counts[split]` pictures of each shape. */
export function writeShapes(dir: string, counts: Record<string, number>, seed = 1): void {
  const rng = new Rng(seed);
  for (const [split, count] of Object.entries(counts)) {
    for (const shape of SHAPES) {
      mkdirSync(join(dir, split, shape), { recursive: true });
      for (let i = 0; i < count; i++) writeFileSync(join(dir, split, shape, `${shape}-${String(i).padStart(3, "0")}.png`), shapePicture(shape, rng));
    }
  }
}

