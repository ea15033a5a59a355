// What the explainer draws and says, as plain functions of a network's activations and weights (no
// DOM): the colour of every value, where each unit sits on its layer's canvas, its receptive field
// on the input, and how its value was computed. The browser tests import this file too, to check
// the page's pixels against the activations Node computes.

/** The layers drawn as grids of pixels (feature maps, then the dense layers as small grids). */
export const GRID_LAYERS = {
  "lenet5": ["input", "c1", "p2", "c3", "p4", "f5", "f6"],
  "lenet5-1998": ["input", "c1", "s2", "c3", "s4", "c5", "f6"],
};

/** Rows x columns of a dense layer drawn as a grid: F6's 84 units as 12x7, like the 1998 RBF codes. */
const DENSE_GRID = { 120: [10, 12], 84: [12, 7] };
const MAPS_PER_ROW = 8;
/** Pixels between two maps of one layer's canvas. */
const GAP = 1;

/** How a layer's values lie on its canvas: `tiles` maps of `rows` x `cols`, `perRow` to a row. */
export function gridLayout(name, shape, arch) {
  let tiles, rows, cols, crop = 0;
  if (shape.length === 3) [tiles, rows, cols] = shape;
  else [tiles, rows, cols] = [1, ...DENSE_GRID[shape[0]]];
  // The article's network sees a 28x28 image in a zero border: the page shows the image; the 1998
  // network's 32x32 field is its input as the paper draws it.
  if (name === "input" && arch === "lenet5") crop = 2;
  rows -= 2 * crop;
  cols -= 2 * crop;
  const perRow = Math.min(tiles, MAPS_PER_ROW);
  const width = perRow * cols + (perRow - 1) * GAP, height = Math.ceil(tiles / perRow) * (rows + GAP) - GAP;
  return { name, shape, tiles, rows, cols, crop, perRow, width, height };
}

/** Top-left pixel of map `t` on the canvas. */
export const tileOrigin = (g, t) => [(t % g.perRow) * (g.cols + GAP), Math.floor(t / g.perRow) * (g.rows + GAP)];

/** The unit under canvas pixel (px, py): { map, y, x } (shown coordinates), or null in a gap. */
export function unitAt(g, px, py) {
  const col = Math.floor(px / (g.cols + GAP)), row = Math.floor(py / (g.rows + GAP));
  const x = px - col * (g.cols + GAP), y = py - row * (g.rows + GAP), map = row * g.perRow + col;
  if (x >= g.cols || y >= g.rows || col >= g.perRow || map >= g.tiles) return null;
  return { map, y, x };
}

/** Index into the layer's values of a unit at shown coordinates. */
export function valueIndex(g, { map, y, x }) {
  if (g.shape.length === 1) return y * g.cols + x;
  const [, H, W] = g.shape;
  return map * H * W + (y + g.crop) * W + (x + g.crop);
}

/**
 * The unit one key away: arrows move by a unit (maps follow one another left to right, top to
 * bottom), Page Down and Page Up to the same unit of the next or previous map, Home and End to the
 * first and last unit of the map. null past the last map or before the first; undefined for any other key.
 */
export function step(g, { map, y, x }, key) {
  if (key === "ArrowRight") x++;
  else if (key === "ArrowLeft") x--;
  else if (key === "ArrowDown") y++;
  else if (key === "ArrowUp") y--;
  else if (key === "PageDown") map++;
  else if (key === "PageUp") map--;
  else if (key === "Home") [y, x] = [0, 0];
  else if (key === "End") [y, x] = [g.rows - 1, g.cols - 1];
  else return undefined;
  if (x >= g.cols) [map, x] = [map + 1, 0];
  if (x < 0) [map, x] = [map - 1, g.cols - 1];
  if (y >= g.rows) [map, y] = [map + g.perRow, 0];
  if (y < 0) [map, y] = [map - g.perRow, g.rows - 1];
  return map >= 0 && map < g.tiles ? { map, y, x } : null;
}

// Colours: the input in grey as the network sees it (black background, white ink); every other
// value on a diverging scale, blue below 0, white at 0, red above, saturated at the layer's range.
const WHITE = [247, 247, 247], BLUE = [33, 102, 172], RED = [178, 24, 43];
const SQUASH_A = 1.7159; // the 1998 network's f(a) = 1.7159 tanh(2a/3) lies in +-1.7159 (networks.ts's SQUASH)

/** The value that saturates the colours of a network's layers: tanh's 1, or the 1998 squash's 1.7159. */
export const rangeOf = (arch) => (arch === "lenet5" ? 1 : SQUASH_A);

/** RGB of `v` in a layer with range `range` (or the input's grey, for `input`). */
export function colourOf(v, range, input) {
  if (input) {
    const g = Math.round((255 * (v - input.low)) / (input.high - input.low));
    return [g, g, g];
  }
  const t = Math.max(-1, Math.min(1, v / range)), end = t < 0 ? BLUE : RED, a = Math.abs(t);
  return WHITE.map((w, i) => Math.round(w + a * (end[i] - w)));
}

/** The input's scale: pixel 0 (background) to 255 (ink), as each network maps it (its arch.input; a test checks they agree). */
export const INPUT_SCALE = { "lenet5": { low: 0, high: 1 }, "lenet5-1998": { low: -0.1, high: 1.175 } };

/** RGBA pixels of a layer's canvas (gaps white). */
export function paint(g, values, arch) {
  const rgba = new Uint8ClampedArray(g.width * g.height * 4).fill(255);
  const range = rangeOf(arch), input = g.name === "input" ? INPUT_SCALE[arch] : undefined;
  for (let map = 0; map < g.tiles; map++) {
    const [ox, oy] = tileOrigin(g, map);
    for (let y = 0; y < g.rows; y++) {
      for (let x = 0; x < g.cols; x++) {
        const [r, gr, b] = colourOf(values[valueIndex(g, { map, y, x })], range, input);
        rgba.set([r, gr, b, 255], ((oy + y) * g.width + ox + x) * 4);
      }
    }
  }
  return rgba;
}

// ------------------------------------------------------------------------------------------
// Receptive fields, in the 32x32 input field: a 5x5 convolution widens by 4, a 2x2 pooling doubles.

/** The rows (and columns) of the input field a unit at (y, x) of `layer` reads: { top, left, size }, or null for all of it. */
export function receptiveField(layer, y, x) {
  switch (layer) {
    case "c1": return { top: y, left: x, size: 5 };
    case "p2": case "s2": return { top: 2 * y, left: 2 * x, size: 6 };
    case "c3": return { top: 2 * y, left: 2 * x, size: 14 };
    case "p4": case "s4": return { top: 4 * y, left: 4 * x, size: 16 };
    case "input": return { top: y, left: x, size: 1 };
    default: return null; // dense layers and outputs read the whole field
  }
}

// ------------------------------------------------------------------------------------------
// How a unit's value came about. Sums are recomputed here in float64 from the float32 weights and
// inputs; the kernels sum in float32, so the last digits may differ from the value shown.

const tanh = Math.tanh, squash = (a) => SQUASH_A * Math.tanh((2 / 3) * a);
const unitName = (layer, shape, i) => (shape.length === 3
  ? `${layer} map ${Math.floor(i / (shape[1] * shape[2]))}, row ${Math.floor(i / shape[2]) % shape[1]}, column ${i % shape[2]}`
  : `${layer} unit ${i}`);

/** The largest contributions up and down: [{ label, amount }], `count` each. */
function strongest(terms, count = 5) {
  const sorted = [...terms].sort((a, b) => b.amount - a.amount);
  return { up: sorted.filter((t) => t.amount > 0).slice(0, count), down: sorted.filter((t) => t.amount < 0).reverse().slice(0, count) };
}

/**
 * Everything the unit panel shows about unit `index` of layer `layer`: its value, receptive field,
 * the 5x5 weights it applies to each input map, the sum that went into the activation function,
 * and the inputs that pushed it up or down the most (for a pooling unit, its 4 `inputs` instead).
 * `net`: the model's network (model.arch: its name, layer shapes, C3 mask and RBF codes), `act`: layer
 * name -> values (model.activations), `w`: model.getWeights().
 */
export function explainUnit(net, layer, index, act, w) {
  const arch = net.name, paper = arch !== "lenet5", f = paper ? squash : tanh, fName = paper ? "f" : "tanh";
  const shapes = Object.fromEntries(net.layers.map((l) => [l.name, l.shape]));
  const { c3Mask: mask, codes } = net.constants;
  const shape = shapes[layer];
  const value = act[layer][index];
  const out = { layer, index, name: unitName(layer, shape, index), value, field: null, kernels: [], bias: undefined, sum: undefined, activation: undefined, formula: "", up: [], down: [], inputs: undefined };
  const [, H, W] = shape, map = Math.floor(index / ((H ?? 1) * (W ?? 1))), y = Math.floor(index / (W ?? 1)) % (H ?? 1), x = index % (W ?? 1);
  if (shape.length === 3) out.field = receptiveField(layer, y, x);

  if (layer === "c1" || layer === "c3") {
    const source = layer === "c1" ? "input" : paper ? "s2" : "p2", [C, IH, IW] = shapes[source];
    const weights = w[`${layer}.weight`], bias = w[`${layer}.bias`][map], terms = [];
    let sum = bias;
    for (let c = 0; c < C; c++) {
      const at = (map * C + c) * 25, kernel = weights.subarray(at, at + 25);
      const connected = !(layer === "c3" && paper && mask[at] === 0);
      const inputs = Float64Array.from({ length: 25 }, (_, k) => act[source][c * IH * IW + (y + Math.floor(k / 5)) * IW + x + (k % 5)]);
      out.kernels.push({ label: layer === "c1" ? "weights on the input" : `from ${source} map ${c}${connected ? "" : " (not connected: Table I)"}`, weights: kernel, inputs, connected });
      if (!connected) continue;
      let part = 0;
      for (let k = 0; k < 25; k++) part += kernel[k] * inputs[k];
      sum += part;
      if (C > 1) terms.push({ label: `${source} map ${c}`, amount: part });
    }
    Object.assign(out, { bias, sum, activation: f(sum), formula: `${fName}(bias + sum of weights x inputs)`, ...strongest(terms) });
  } else if (layer === "p2" || layer === "s2" || layer === "p4" || layer === "s4") {
    const source = layer.endsWith("2") ? "c1" : "c3", [, IH, IW] = shapes[source];
    const inputs = [0, 1, 2, 3].map((k) => act[source][map * IH * IW + (2 * y + (k >> 1)) * IW + 2 * x + (k & 1)]);
    const total = inputs.reduce((a, b) => a + b, 0);
    if (paper) {
      const coef = w[`${layer}.weight`][map], bias = w[`${layer}.bias`][map], sum = coef * total + bias;
      Object.assign(out, { bias, sum, activation: f(sum), formula: `f(coefficient ${coef.toFixed(4)} x the sum of 4 ${source} values + bias)` });
    } else {
      Object.assign(out, { sum: total / 4, activation: total / 4, formula: `the average of 4 ${source} values` });
    }
    out.inputs = inputs.map((v, k) => ({ label: `${source} row ${2 * y + (k >> 1)}, column ${2 * x + (k & 1)}`, amount: v }));
  } else if (layer !== "input") {
    // Dense layers and outputs: a weighted sum of the layer before (or, for the RBF units, a distance).
    const before = { f5: "p4", c5: "s4", f6: paper ? "c5" : "f5", logits: "f6" }[layer];
    const unit = index, inputs = act[before], K = inputs.length;
    const beforeShape = shapes[before];
    if (arch === "lenet5-1998" && layer === "logits") {
      const code = codes.subarray(unit * 84, unit * 84 + 84), terms = [];
      let sum = 0;
      for (let j = 0; j < 84; j++) {
        const d = -((inputs[j] - code[j]) ** 2);
        sum += d;
        terms.push({ label: `f6 unit ${j} (code ${code[j] > 0 ? "+1" : "-1"})`, amount: d });
      }
      Object.assign(out, { sum, activation: sum, formula: "minus the squared distance from f6 to the digit's code", ...strongest(terms) });
    } else {
      const name = layer === "logits" ? "out" : layer;
      const weights = w[`${name}.weight`], bias = w[`${name}.bias`][unit], terms = [];
      let sum = bias;
      for (let k = 0; k < K; k++) {
        const amount = weights[unit * K + k] * inputs[k];
        sum += amount;
        terms.push({ label: unitName(before, beforeShape, k), amount });
      }
      const output = layer === "logits";
      Object.assign(out, { bias, sum, activation: output ? sum : f(sum), formula: output ? "bias + sum of weights x f6 (the logit)" : `${fName}(bias + sum of weights x ${before})`, ...strongest(terms) });
      if (beforeShape.length === 3) { // f5/c5 read 16 maps of 5x5: their weights, drawn as 16 kernels
        for (let c = 0; c < beforeShape[0]; c++) {
          out.kernels.push({ label: `from ${before} map ${c}`, weights: weights.subarray(unit * K + c * 25, unit * K + c * 25 + 25), inputs: inputs.subarray(c * 25, c * 25 + 25), connected: true });
        }
      }
    }
  }
  return out;
}
