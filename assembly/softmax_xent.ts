// Softmax over the last axis and sparse categorical cross-entropy, f32. N (classes) is small (10),
// so these loops are scalar: they cost ~0.1% of a training step. exp/log are AssemblyScript's own
// (a musl port compiled into the module), so every engine gives the same bits.
import { at } from "./simd";

// logits (B,N) -> probs (B,N); overwrites probs.
export function softmax_fwd(probs: usize, logits: usize, B: i32, N: i32): void {
  for (let b = 0; b < B; b++) {
    const z = at(logits, b * N), p = at(probs, b * N);
    let max = load<f32>(z);
    for (let j = 1; j < N; j++) max = Mathf.max(max, load<f32>(at(z, j)));
    let sum: f32 = 0;
    for (let j = 0; j < N; j++) {
      const e = Mathf.exp(load<f32>(at(z, j)) - max);
      store<f32>(at(p, j), e);
      sum += e;
    }
    const inv: f32 = 1 / sum;
    for (let j = 0; j < N; j++) store<f32>(at(p, j), load<f32>(at(p, j)) * inv);
  }
}

// logits (B,N) labels (B, i32) -> probs (B,N); returns the SUM over the batch of -log softmax[label]
// (as log-sum-exp minus the label's logit, which stays finite even when a probability underflows).
export function softmax_xent_fwd(probs: usize, logits: usize, labels: usize, B: i32, N: i32): f64 {
  softmax_fwd(probs, logits, B, N);
  let loss: f64 = 0;
  for (let b = 0; b < B; b++) {
    const z = at(logits, b * N);
    let max = load<f32>(z);
    for (let j = 1; j < N; j++) max = Mathf.max(max, load<f32>(at(z, j)));
    let sum: f32 = 0;
    for (let j = 0; j < N; j++) sum += Mathf.exp(load<f32>(at(z, j)) - max);
    const label = load<i32>(labels + (<usize>b << 2));
    loss += <f64>(Mathf.log(sum) + max - load<f32>(at(z, label)));
  }
  return loss;
}

// probs (B,N) labels (B, i32) -> dlogits (B,N) = (probs - onehot(labels)) * scale; overwrites dlogits.
// scale = 1/B for the gradient of the batch-mean loss.
export function softmax_xent_bwd(dlogits: usize, probs: usize, labels: usize, B: i32, N: i32, scale: f32): void {
  for (let b = 0; b < B; b++) {
    const label = load<i32>(labels + (<usize>b << 2));
    for (let j = 0; j < N; j++) {
      const p = load<f32>(at(probs, b * N + j));
      store<f32>(at(dlogits, b * N + j), (j == label ? p - 1 : p) * scale);
    }
  }
}
