// The 1998 LeNet-5's output layer: Euclidean radial basis function units with fixed centres (the
// class codes), and an extra constant "rubbish" unit, laid out as logits for softmax_xent_*:
// row b of the logits is [-|x_b - c_0|^2, ..., -|x_b - c_{C-1}|^2, -rubbish] (C + 1 values).
// softmax cross-entropy over that row is the paper's MAP criterion, eq. (9):
// E = y_D + log(exp(-j) + sum_i exp(-y_i)), with y_i the squared distances and j = rubbish.
import { at, hsum } from "./simd";

// inp (B,N) centres (C,N) -> logits (B,C+1) as above; overwrites logits.
export function rbf_fwd(logits: usize, inp: usize, centres: usize, B: i32, N: i32, C: i32, rubbish: f32): void {
  for (let b = 0; b < B; b++) {
    const x = at(inp, b * N);
    const row = at(logits, b * (C + 1));
    for (let i = 0; i < C; i++) {
      const c = at(centres, i * N);
      let acc = f32x4.splat(0);
      let j = 0;
      for (; j + 4 <= N; j += 4) {
        const d = f32x4.sub(v128.load(at(x, j)), v128.load(at(c, j)));
        acc = f32x4.add(acc, f32x4.mul(d, d));
      }
      let tail: f32 = 0;
      for (; j < N; j++) {
        const d = load<f32>(at(x, j)) - load<f32>(at(c, j));
        tail += d * d;
      }
      store<f32>(at(row, i), -(hsum(acc) + tail));
    }
    store<f32>(at(row, C), -rubbish);
  }
}

// dlogits (B,C+1) inp (B,N) centres (C,N) -> dinp (B,N) = sum_i dlogits[b,i] * 2 (c_i - x_b)
// (the rubbish unit is constant: its gradient is ignored); overwrites dinp.
export function rbf_bwd_input(dinp: usize, dlogits: usize, inp: usize, centres: usize, B: i32, N: i32, C: i32): void {
  const two = f32x4.splat(2);
  for (let b = 0; b < B; b++) {
    const x = at(inp, b * N), d = at(dinp, b * N);
    const g = at(dlogits, b * (C + 1));
    let j = 0;
    for (; j + 4 <= N; j += 4) {
      const xv = v128.load(at(x, j));
      let acc = f32x4.splat(0);
      for (let i = 0; i < C; i++) {
        acc = f32x4.add(acc, f32x4.mul(f32x4.splat(load<f32>(at(g, i))), f32x4.sub(v128.load(at(centres, i * N + j)), xv)));
      }
      v128.store(at(d, j), f32x4.mul(two, acc));
    }
    for (; j < N; j++) {
      const xs = load<f32>(at(x, j));
      let acc: f32 = 0;
      for (let i = 0; i < C; i++) acc += load<f32>(at(g, i)) * (load<f32>(at(centres, i * N + j)) - xs);
      store<f32>(at(d, j), 2 * acc);
    }
  }
}
