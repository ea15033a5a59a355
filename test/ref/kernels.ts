// Plain scalar float64 reference kernels (test oracles).
// Layouts: NCHW row-major activations, PyTorch weight layouts.
// Every function returns new arrays and never mutates its inputs, except adam_step_ref (in place).

// inp (B,C,H,W) weight (OC,C,K,K) bias (OC) -> (B,OC,OH,OW), OH = H + 2*pad - K + 1 (zero padding; cross-correlation like PyTorch)
export function conv2d_fwd_ref(
  inp: Float64Array, weight: Float64Array, bias: Float64Array,
  B: number, C: number, H: number, W: number, OC: number, K: number, pad: number,
): Float64Array {
  const OH = H + 2 * pad - K + 1;
  const OW = W + 2 * pad - K + 1;
  const out = new Float64Array(B * OC * OH * OW);
  for (let b = 0; b < B; b++) {
    for (let oc = 0; oc < OC; oc++) {
      for (let oy = 0; oy < OH; oy++) {
        for (let ox = 0; ox < OW; ox++) {
          let s = bias[oc];
          for (let c = 0; c < C; c++) {
            for (let ky = 0; ky < K; ky++) {
              for (let kx = 0; kx < K; kx++) {
                const iy = oy + ky - pad;
                const ix = ox + kx - pad;
                if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                s += inp[((b * C + c) * H + iy) * W + ix] * weight[((oc * C + c) * K + ky) * K + kx];
              }
            }
          }
          out[((b * OC + oc) * OH + oy) * OW + ox] = s;
        }
      }
    }
  }
  return out;
}

// dout (B,OC,OH,OW) weight (OC,C,K,K) -> dinp (B,C,H,W)
export function conv2d_bwd_input_ref(
  dout: Float64Array, weight: Float64Array,
  B: number, C: number, H: number, W: number, OC: number, K: number, pad: number,
): Float64Array {
  const OH = H + 2 * pad - K + 1;
  const OW = W + 2 * pad - K + 1;
  const dinp = new Float64Array(B * C * H * W);
  for (let b = 0; b < B; b++) {
    for (let oc = 0; oc < OC; oc++) {
      for (let oy = 0; oy < OH; oy++) {
        for (let ox = 0; ox < OW; ox++) {
          const g = dout[((b * OC + oc) * OH + oy) * OW + ox];
          for (let c = 0; c < C; c++) {
            for (let ky = 0; ky < K; ky++) {
              for (let kx = 0; kx < K; kx++) {
                const iy = oy + ky - pad;
                const ix = ox + kx - pad;
                if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                dinp[((b * C + c) * H + iy) * W + ix] += g * weight[((oc * C + c) * K + ky) * K + kx];
              }
            }
          }
        }
      }
    }
  }
  return dinp;
}

// dout (B,OC,OH,OW) inp (B,C,H,W) -> dweight (OC,C,K,K), dbias (OC)
export function conv2d_bwd_weight_ref(
  dout: Float64Array, inp: Float64Array,
  B: number, C: number, H: number, W: number, OC: number, K: number, pad: number,
): { dweight: Float64Array; dbias: Float64Array } {
  const OH = H + 2 * pad - K + 1;
  const OW = W + 2 * pad - K + 1;
  const dweight = new Float64Array(OC * C * K * K);
  const dbias = new Float64Array(OC);
  for (let b = 0; b < B; b++) {
    for (let oc = 0; oc < OC; oc++) {
      for (let oy = 0; oy < OH; oy++) {
        for (let ox = 0; ox < OW; ox++) {
          const g = dout[((b * OC + oc) * OH + oy) * OW + ox];
          dbias[oc] += g;
          for (let c = 0; c < C; c++) {
            for (let ky = 0; ky < K; ky++) {
              for (let kx = 0; kx < K; kx++) {
                const iy = oy + ky - pad;
                const ix = ox + kx - pad;
                if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                dweight[((oc * C + c) * K + ky) * K + kx] += g * inp[((b * C + c) * H + iy) * W + ix];
              }
            }
          }
        }
      }
    }
  }
  return { dweight, dbias };
}

// inp (B,C,H,W) -> (B,C,floor(H/2),floor(W/2)), 2x2 window, stride 2, mean
export function avgpool2d_fwd_ref(inp: Float64Array, B: number, C: number, H: number, W: number): Float64Array {
  const OH = Math.floor(H / 2);
  const OW = Math.floor(W / 2);
  const out = new Float64Array(B * C * OH * OW);
  for (let bc = 0; bc < B * C; bc++) {
    for (let oy = 0; oy < OH; oy++) {
      for (let ox = 0; ox < OW; ox++) {
        let s = 0;
        for (let dy = 0; dy < 2; dy++) {
          for (let dx = 0; dx < 2; dx++) s += inp[(bc * H + 2 * oy + dy) * W + 2 * ox + dx];
        }
        out[(bc * OH + oy) * OW + ox] = 0.25 * s;
      }
    }
  }
  return out;
}

// dout (B,C,floor(H/2),floor(W/2)) -> dinp (B,C,H,W); rows/cols dropped by the floor get 0
export function avgpool2d_bwd_ref(dout: Float64Array, B: number, C: number, H: number, W: number): Float64Array {
  const OH = Math.floor(H / 2);
  const OW = Math.floor(W / 2);
  const dinp = new Float64Array(B * C * H * W);
  for (let bc = 0; bc < B * C; bc++) {
    for (let oy = 0; oy < OH; oy++) {
      for (let ox = 0; ox < OW; ox++) {
        const g = 0.25 * dout[(bc * OH + oy) * OW + ox];
        for (let dy = 0; dy < 2; dy++) {
          for (let dx = 0; dx < 2; dx++) dinp[(bc * H + 2 * oy + dy) * W + 2 * ox + dx] = g;
        }
      }
    }
  }
  return dinp;
}

// inp (B,K) weight (N,K) bias (N) -> (B,N), out = inp @ weight^T + bias
export function dense_fwd_ref(
  inp: Float64Array, weight: Float64Array, bias: Float64Array, B: number, K: number, N: number,
): Float64Array {
  const out = new Float64Array(B * N);
  for (let b = 0; b < B; b++) {
    for (let n = 0; n < N; n++) {
      let s = bias[n];
      for (let k = 0; k < K; k++) s += inp[b * K + k] * weight[n * K + k];
      out[b * N + n] = s;
    }
  }
  return out;
}

// dout (B,N) weight (N,K) -> dinp (B,K), dinp = dout @ weight
export function dense_bwd_input_ref(dout: Float64Array, weight: Float64Array, B: number, K: number, N: number): Float64Array {
  const dinp = new Float64Array(B * K);
  for (let b = 0; b < B; b++) {
    for (let k = 0; k < K; k++) {
      let s = 0;
      for (let n = 0; n < N; n++) s += dout[b * N + n] * weight[n * K + k];
      dinp[b * K + k] = s;
    }
  }
  return dinp;
}

// dout (B,N) inp (B,K) -> dweight (N,K) = dout^T @ inp, dbias (N) = sum over batch of dout
export function dense_bwd_weight_ref(
  dout: Float64Array, inp: Float64Array, B: number, K: number, N: number,
): { dweight: Float64Array; dbias: Float64Array } {
  const dweight = new Float64Array(N * K);
  const dbias = new Float64Array(N);
  for (let n = 0; n < N; n++) {
    for (let b = 0; b < B; b++) dbias[n] += dout[b * N + n];
    for (let k = 0; k < K; k++) {
      let s = 0;
      for (let b = 0; b < B; b++) s += dout[b * N + n] * inp[b * K + k];
      dweight[n * K + k] = s;
    }
  }
  return { dweight, dbias };
}

// inp (any) -> tanh(inp), same shape
export function tanh_fwd_ref(inp: Float64Array): Float64Array {
  const out = new Float64Array(inp.length);
  for (let i = 0; i < inp.length; i++) out[i] = Math.tanh(inp[i]);
  return out;
}

// inp (any) -> the f32 models' tanh (assembly/activation.ts's tanh_v) as the kernel computes it, step
// by step in f32 (rationalTanhRef), with its clamp and coefficients.
export function tanh_v_ref(inp: ArrayLike<number>): Float32Array {
  return rationalTanhRef(inp, 7.91033935546875,
    [1, 0.1286037713289261, 0.0028814454562962055, 1.0694008778955322e-05],
    [1, 0.4619351029396057, 0.023529306054115295, 0.000228928925935179, 2.228678823712471e-07]);
}

// inp (any) -> the int8 models' tanh (assembly/activation.ts's tanh_i8_v), the same way.
export function tanh_i8_ref(inp: ArrayLike<number>): Float32Array {
  return rationalTanhRef(inp, 6, [0.999968708, 0.114319608, 0.00148596684], [1, 0.447554111, 0.017430285, 5.45850744e-5]);
}

// x clamped to [-clamp, clamp], then x p(x^2) / q(x^2) by Horner's rule (p and q: coefficients of
// x^0, x^2, x^4, ...), every operation rounded to f32 in the kernels' order.
function rationalTanhRef(inp: ArrayLike<number>, clamp: number, p: number[], q: number[]): Float32Array {
  const f = Math.fround;
  const horner = (c: number[], x2: number) => c.slice(0, -1).reduceRight((acc, ck) => f(f(x2 * acc) + f(ck)), f(c[c.length - 1]));
  const out = new Float32Array(inp.length);
  for (let i = 0; i < inp.length; i++) {
    const x = Math.max(-clamp, Math.min(clamp, f(inp[i]))), x2 = f(x * x); // NaN stays NaN, -0 stays -0
    out[i] = f(f(x * horner(p, x2)) / horner(q, x2));
  }
  return out;
}

// dout, out = tanh(inp) (same shape) -> dinp = dout * (1 - out^2)
export function tanh_bwd_ref(dout: Float64Array, out: Float64Array): Float64Array {
  const dinp = new Float64Array(out.length);
  for (let i = 0; i < out.length; i++) dinp[i] = dout[i] * (1 - out[i] * out[i]);
  return dinp;
}

// The 1998 LeNet-5's squashing function: A tanh(S a), A = 1.7159, S = 2/3
export const SQUASH_A = 1.7159, SQUASH_S = 2 / 3;
export function squash_fwd_ref(inp: Float64Array): Float64Array {
  return inp.map((x) => SQUASH_A * Math.tanh(SQUASH_S * x));
}

// dout, out = squash(inp) -> dinp = dout * A S (1 - tanh^2) = dout * (S/A) (A^2 - out^2)
export function squash_bwd_ref(dout: Float64Array, out: Float64Array): Float64Array {
  return out.map((y, i) => dout[i] * (SQUASH_S / SQUASH_A) * (SQUASH_A * SQUASH_A - y * y));
}

// inp (B,C,H,W) coef (C) bias (C) -> (B,C,H/2,W/2): coef[c] * (sum of the 2x2 block) + bias[c]
export function subsample2d_fwd_ref(
  inp: Float64Array, coef: Float64Array, bias: Float64Array, B: number, C: number, H: number, W: number,
): Float64Array {
  const sums = avgpool2d_fwd_ref(inp, B, C, H, W);
  const P = Math.floor(H / 2) * Math.floor(W / 2);
  return sums.map((avg, i) => {
    const c = Math.floor(i / P) % C;
    return coef[c] * 4 * avg + bias[c];
  });
}

// dout (B,C,H/2,W/2) -> dinp (B,C,H,W), dcoef (C), dbias (C) of subsample2d_fwd_ref
export function subsample2d_bwd_ref(
  dout: Float64Array, inp: Float64Array, coef: Float64Array, B: number, C: number, H: number, W: number,
): { dinp: Float64Array; dcoef: Float64Array; dbias: Float64Array } {
  const P = Math.floor(H / 2) * Math.floor(W / 2);
  const sums = avgpool2d_fwd_ref(inp, B, C, H, W).map((a) => 4 * a);
  const dcoef = new Float64Array(C), dbias = new Float64Array(C);
  // avgpool's backward spreads g / 4 to each input of a block: pass 4 coef g.
  const scaled = dout.map((g, i) => 4 * coef[Math.floor(i / P) % C] * g);
  for (let i = 0; i < dout.length; i++) {
    const c = Math.floor(i / P) % C;
    dcoef[c] += dout[i] * sums[i];
    dbias[c] += dout[i];
  }
  return { dinp: avgpool2d_bwd_ref(scaled, B, C, H, W), dcoef, dbias };
}

// inp (B,N) centres (C,N) -> logits (B,C+1): -|x_b - c_i|^2 for each unit i, then -rubbish
export function rbf_fwd_ref(inp: Float64Array, centres: Float64Array, B: number, N: number, C: number, rubbish: number): Float64Array {
  const out = new Float64Array(B * (C + 1));
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < C; i++) {
      let d2 = 0;
      for (let j = 0; j < N; j++) d2 += (inp[b * N + j] - centres[i * N + j]) ** 2;
      out[b * (C + 1) + i] = -d2;
    }
    out[b * (C + 1) + C] = -rubbish;
  }
  return out;
}

// dlogits (B,C+1) -> dinp (B,N) of rbf_fwd_ref (the constant rubbish logit has no input)
export function rbf_bwd_input_ref(dlogits: Float64Array, inp: Float64Array, centres: Float64Array, B: number, N: number, C: number): Float64Array {
  const dinp = new Float64Array(B * N);
  for (let b = 0; b < B; b++) {
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let i = 0; i < C; i++) s += dlogits[b * (C + 1) + i] * 2 * (centres[i * N + j] - inp[b * N + j]);
      dinp[b * N + j] = s;
    }
  }
  return dinp;
}

// logits (B,N) -> probs (B,N), row-wise softmax (row max subtracted for stability)
export function softmax_fwd_ref(logits: Float64Array, B: number, N: number): Float64Array {
  const probs = new Float64Array(B * N);
  for (let b = 0; b < B; b++) {
    let max = -Infinity;
    for (let n = 0; n < N; n++) max = Math.max(max, logits[b * N + n]);
    let sum = 0;
    for (let n = 0; n < N; n++) {
      const e = Math.exp(logits[b * N + n] - max);
      probs[b * N + n] = e;
      sum += e;
    }
    for (let n = 0; n < N; n++) probs[b * N + n] /= sum;
  }
  return probs;
}

// logits (B,N) labels (B) -> probs (B,N), loss = mean over batch of -log probs[b, labels[b]]
export function softmax_xent_fwd_ref(
  logits: Float64Array, labels: Int32Array, B: number, N: number,
): { probs: Float64Array; loss: number } {
  const probs = softmax_fwd_ref(logits, B, N);
  let loss = 0;
  for (let b = 0; b < B; b++) {
    // log-sum-exp form: -log p = logsumexp(row) - logit[label], accurate even when p underflows
    let max = -Infinity;
    for (let n = 0; n < N; n++) max = Math.max(max, logits[b * N + n]);
    let sum = 0;
    for (let n = 0; n < N; n++) sum += Math.exp(logits[b * N + n] - max);
    loss += max + Math.log(sum) - logits[b * N + labels[b]];
  }
  return { probs, loss: loss / B };
}

// probs (B,N) labels (B) -> dlogits (B,N) = (probs - onehot(labels)) / B
export function softmax_xent_bwd_ref(probs: Float64Array, labels: Int32Array, B: number, N: number): Float64Array {
  const dlogits = new Float64Array(B * N);
  for (let b = 0; b < B; b++) {
    for (let n = 0; n < N; n++) {
      const onehot = n === labels[b] ? 1 : 0;
      dlogits[b * N + n] = (probs[b * N + n] - onehot) / B;
    }
  }
  return dlogits;
}

// params, grads, m, v (all same length) -> params, m, v updated in place (Keras Adam, t = step number starting at 1)
export function adam_step_ref(
  params: Float64Array, grads: Float64Array, m: Float64Array, v: Float64Array,
  t: number, lr: number, beta1: number, beta2: number, eps: number,
): void {
  const alpha = (lr * Math.sqrt(1 - Math.pow(beta2, t))) / (1 - Math.pow(beta1, t));
  for (let i = 0; i < params.length; i++) {
    const g = grads[i];
    m[i] += (g - m[i]) * (1 - beta1);
    v[i] += (g * g - v[i]) * (1 - beta2);
    params[i] -= (alpha * m[i]) / (Math.sqrt(v[i]) + eps);
  }
}
