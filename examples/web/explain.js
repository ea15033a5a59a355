// The explainer: a drawn digit through every layer of LeNet-5, live; any unit opened (its receptive
// field, weights and sum); and the network trained from random weights in a Web Worker
// (explain-worker.js), its filters, maps, curves and confusion matrix redrawn as it learns.
// What is drawn comes from explain-view.js; every layer's values from lenet-wasm's own
// model.activations() (the unit panel's sums are recomputed from them, in float64).
import { LeNet5, decodeModel, findDigit, parseIdx } from "./lenet-wasm/lenet-wasm.js";
import { describeFiles, fileDrop } from "./file-drop.js";
import { drawingPad } from "./pad.js";
import * as view from "./explain-view.js";

const $ = (id) => document.querySelector(`#${id}`);
const el = (tag, props = {}, ...children) => {
  const e = Object.assign(document.createElement(tag), props);
  e.append(...children);
  return e;
};

const NETWORKS = {
  "lenet5": { file: "lenet5.safetensors", layers: { input: "input (28x28 in [0,1])", c1: "c1: conv 6@5x5, tanh", p2: "p2: average pool 2x2", c3: "c3: conv 16@5x5, tanh", p4: "p4: average pool 2x2", f5: "f5: dense 120, tanh", f6: "f6: dense 84, tanh" } },
  "lenet5-1998": { file: "lenet5-1998.safetensors", layers: { input: "input: the 32x32 field (-0.1 to 1.175)", c1: "C1: conv 6@5x5, squash", s2: "S2: subsampling 2x2, squash", c3: "C3: conv 16@5x5 (Table I), squash", s4: "S4: subsampling 2x2, squash", c5: "C5: conv 120@5x5, squash", f6: "F6: 84 units, squash (shown 12x7, like the codes)" } },
};
/** Scale of each layer's canvas on screen (CSS pixels per unit). */
const SCALE = { input: 5, c1: 2, p2: 4, s2: 4, c3: 4, p4: 7, s4: 7, f5: 12, c5: 12, f6: 12 };

const state = {
  arch: "lenet5", model: null, weights: null, digit: null, act: null, selected: null, grids: {}, timings: [], samples: null, sample: 0,
};

// ---------------------------------------------------------------------------------------------
// The layers' canvases, made again whenever the network changes.

function buildLayers() {
  const box = $("layers");
  box.replaceChildren();
  state.grids = {};
  for (const name of view.GRID_LAYERS[state.arch]) {
    const shape = state.model.arch.layers.find((l) => l.name === name).shape;
    const g = view.gridLayout(name, shape, state.arch);
    const canvas = el("canvas", { width: g.width, height: g.height, tabIndex: 0, id: `layer-${name}` });
    canvas.style.width = `${g.width * SCALE[name]}px`;
    // Arrow keys move over the units: "application" asks screen readers to pass the keys on.
    canvas.setAttribute("role", "application");
    canvas.setAttribute("aria-roledescription", "layer");
    canvas.setAttribute("aria-label", `${NETWORKS[state.arch].layers[name]}: arrow keys move over the units, Page Up and Page Down between maps`);
    const wrap = el("div", { className: "map" }, canvas);
    const fig = el("figure", {}, wrap, el("figcaption", { textContent: NETWORKS[state.arch].layers[name] }));
    box.append(fig);
    state.grids[name] = { g, canvas, wrap, ctx: canvas.getContext("2d") };
    const pick = (e) => {
      const u = view.unitAt(g, Math.floor((e.offsetX * g.width) / canvas.clientWidth), Math.floor((e.offsetY * g.height) / canvas.clientHeight));
      if (u) select({ layer: name, unit: u });
    };
    canvas.addEventListener("pointermove", (e) => { if (e.pointerType === "mouse") pick(e); });
    canvas.addEventListener("pointerdown", pick);
    canvas.addEventListener("focus", () => { if (state.selected?.layer !== name) select({ layer: name, unit: { map: 0, y: 0, x: 0 } }, true); });
    canvas.addEventListener("keydown", (e) => {
      if (state.selected?.layer !== name) return;
      const next = view.step(g, state.selected.unit, e.key);
      if (next === undefined) return; // not a key of ours
      e.preventDefault();
      if (next) select({ layer: name, unit: next }, true);
    });
  }
  // The 10 outputs: buttons (each opens its explanation) with a probability bar.
  const outputs = $("outputs");
  outputs.replaceChildren();
  state.bars = Array.from({ length: 10 }, (_, d) => {
    const button = el("button", { type: "button", textContent: String(d) });
    button.setAttribute("aria-pressed", "false");
    button.addEventListener("click", () => select({ layer: "logits", index: d }, true));
    const fill = el("div"), bar = el("div", { className: "bar" }, fill), value = el("span");
    outputs.append(button, bar, value);
    return { button, bar, fill, value };
  });
}

// ---------------------------------------------------------------------------------------------
// One update: the pad -> the 28x28 digit -> every layer's activations -> every panel.

let pending = false, stroke = false, announceNext = false;
/**
 * Updates at most once per frame, however many pointer events or weight snapshots arrive. `drawn`:
 * the pad changed (the update is timed), `final`: a stroke ended (the prediction is announced).
 */
function schedule({ drawn = false, final = false } = {}) {
  stroke ||= drawn;
  announceNext ||= final;
  if (!pending) requestAnimationFrame(update);
  pending = true;
}

function update() {
  pending = false;
  const timed = stroke, announcing = announceNext;
  stroke = announceNext = false;
  if (!state.model) return;
  const start = performance.now();
  state.digit = findDigit(pad.image());
  state.act = state.digit ? Object.fromEntries(state.model.activations(state.digit).map((l) => [l.name, l.values])) : null;
  draw();
  const ms = performance.now() - start;
  if (timed && state.digit) recordTiming(ms);
  if (announcing) announce();
}

function draw() {
  for (const [name, { g, ctx }] of Object.entries(state.grids)) {
    if (state.act) ctx.putImageData(new ImageData(view.paint(g, state.act[name], state.arch), g.width, g.height), 0, 0);
    else ctx.clearRect(0, 0, g.width, g.height);
  }
  const probs = state.act?.probs, best = probs ? probs.indexOf(Math.max(...probs)) : -1;
  $("prediction").textContent = probs ? String(best) : "draw a digit";
  state.bars.forEach(({ button, bar, fill, value }, d) => {
    fill.style.width = probs ? `${(probs[d] * 100).toFixed(1)}%` : "0";
    value.textContent = probs ? `${(probs[d] * 100).toFixed(1)}%` : "";
    bar.classList.toggle("best", d === best);
    button.setAttribute("aria-label", probs ? `digit ${d}: ${(probs[d] * 100).toFixed(1)}%` : `digit ${d}`);
  });
  showUnit();
}

function announce() {
  const probs = state.act?.probs;
  if (!probs) return say("The pad is empty.");
  const best = probs.indexOf(Math.max(...probs));
  say(`Prediction: ${best}, ${(probs[best] * 100).toFixed(1)}%.`);
}

/** Tells screen readers (one polite live region for the page: predictions, a unit chosen by key, training stops). */
const say = (text) => void ($("announce").textContent = text);

function recordTiming(ms) {
  state.timings.push(ms);
  if (state.timings.length > 60) state.timings.shift();
  const sorted = [...state.timings].sort((a, b) => a - b), median = sorted[Math.floor(sorted.length / 2)];
  const text = `Update time per stroke: ${median.toFixed(1)} ms (median of the last ${sorted.length}; slowest ${sorted.at(-1).toFixed(1)} ms): ` +
    "from the pad's pixels to every layer computed and drawn on its canvas.";
  $("timing").textContent = text;
}

/**
 * For the console and the browser tests: what the page shows, as numbers, always current (the
 * layers are those of the last update, which follows new weights at the next frame).
 */
globalThis.explainer = {
  get arch() { return state.arch; },
  get digit() { return state.digit; },
  get layers() { return state.act; },
  get selected() { return state.selected; },
  get unit() { return state.unit; },
  get weights() { return state.weights; },
};

// ---------------------------------------------------------------------------------------------
// The unit panel.

/** Opens a unit; `spoken` (chosen by key or click, not by a passing mouse) also announces it. */
function select(selection, spoken = false) {
  state.selected = selection;
  state.bars.forEach(({ button }, d) => button.setAttribute("aria-pressed", String(selection.layer === "logits" && selection.index === d)));
  showUnit();
  if (spoken) say($("unit-summary").textContent);
}

const fmt = (v) => (v === undefined ? "" : (Math.abs(v) >= 100 ? v.toFixed(1) : v.toFixed(4)));

/** Paints 5x5 values on the diverging scale (saturated at `range`), or grey for input pixels. */
function paintKernel(canvas, caption, values, range, grey) {
  canvas.setAttribute("aria-label", `${caption}: ${Array.from(values, (v) => v.toFixed(2)).join(", ")}`);
  const rgba = new Uint8ClampedArray(100);
  values.forEach((v, i) => rgba.set([...view.colourOf(v, range, grey), 255], 4 * i));
  canvas.getContext("2d").putImageData(new ImageData(rgba, 5, 5), 0, 0);
}

/** The unit panel's elements for one unit, made when the selection changes and refilled on every update. */
let panel;

function buildPanel(u, key) {
  const sum = el("p", { className: "sum" }), lists = el("div", { className: "lists" }), scale = el("p", { className: "muted" });
  const kernel = (caption, off) => {
    const canvas = el("canvas", { width: 5, height: 5, className: "kernel" });
    canvas.setAttribute("role", "img");
    return { canvas, caption, figure: el("figure", { className: off ? "off" : "" }, canvas, el("figcaption", { textContent: caption })) };
  };
  const kernels = u.kernels.map((k) => ({ weights: kernel(k.label, !k.connected), inputs: kernel("its inputs", !k.connected) }));
  const box = el("div", { className: "row", id: "kernels" }, ...kernels.map((k) => el("div", { className: "pair" }, k.weights.figure, k.inputs.figure)));
  $("unit-details").replaceChildren(...(u.formula ? [sum] : []), ...(kernels.length ? [scale, box] : []), lists);
  return { key, sum, lists, scale, kernels };
}

function showUnit() {
  for (const { wrap } of Object.values(state.grids)) wrap.querySelectorAll(".cursor, .field").forEach((e) => e.remove());
  const s = state.selected;
  state.unit = undefined;
  if (!s || !state.act) {
    $("unit-details").replaceChildren();
    panel = undefined;
    if (s) $("unit-summary").textContent = "Draw a digit (or pick a sample) to see this unit's value.";
    return;
  }
  const grid = state.grids[s.layer];
  const index = s.layer === "logits" ? s.index : view.valueIndex(grid.g, s.unit);
  const u = view.explainUnit(state.model.arch, s.layer, index, state.act, state.weights);
  state.unit = u;
  if (grid) overlay(grid, "cursor", s.unit.map, s.unit.x, s.unit.y, 1);
  const input = state.grids.input, crop = input.g.crop;
  if (u.field) overlay(input, "field", 0, u.field.left - crop, u.field.top - crop, u.field.size);
  const span = (from, size) => `${from}-${from + size - 1}`;
  const shown = (from, size) => span(Math.max(0, from - crop), Math.min(from + size, 32 - crop) - Math.max(crop, from));
  const fieldText = !u.field ? "the whole input"
    : `rows ${span(u.field.top, u.field.size)}, columns ${span(u.field.left, u.field.size)} of the 32x32 input field` +
      (crop ? ` (rows ${shown(u.field.top, u.field.size)}, columns ${shown(u.field.left, u.field.size)} of the 28x28 image)` : "");
  const label = s.layer === "logits" ? `output ${s.index} (probability ${(state.act.probs[s.index] * 100).toFixed(2)}%)` : u.name;
  $("unit-summary").textContent = `${label}: value ${fmt(u.value)}. Reads ${fieldText}.`;
  $("unit-summary").dataset.field = u.field ? `${u.field.top},${u.field.left},${u.field.size}` : "all";

  const key = `${state.arch} ${s.layer} ${index}`;
  if (panel?.key !== key) panel = buildPanel(u, key);
  panel.sum.textContent = `${u.formula}: ` + (u.bias === undefined ? "" : `bias ${fmt(u.bias)}, `) +
    `sum ${fmt(u.sum)}` + (u.activation !== u.sum ? ` -> ${fmt(u.activation)}` : "") + ` (the kernels computed ${fmt(u.value)} in float32).`;
  if (u.kernels.length) {
    const range = Math.max(...u.kernels.flatMap((k) => Array.from(k.weights, Math.abs)), 1e-6);
    const grey = s.layer === "c1" ? state.model.arch.input : undefined;
    panel.scale.textContent = `Weights (saturated at ${fmt(range)}) and the inputs they multiply:`;
    u.kernels.forEach((k, i) => {
      const { weights, inputs } = panel.kernels[i];
      paintKernel(weights.canvas, weights.caption, k.weights, range, undefined);
      paintKernel(inputs.canvas, inputs.caption, k.inputs, view.rangeOf(state.arch), grey);
    });
  }
  const list = (title, terms) => terms.length ? [el("div", {}, el("strong", { textContent: title }),
    el("ol", { className: "terms" }, ...terms.map((t) => el("li", { textContent: `${t.label}: ${t.amount >= 0 ? "+" : ""}${fmt(t.amount)}` }))))] : [];
  panel.lists.replaceChildren(...(u.inputs
    ? list("Its 4 inputs", u.inputs)
    : [...list("Pushed it up the most", u.up), ...list("Pushed it down the most", u.down)]));
}

/**
 * Outlines `size` units from (x, y) of map `map` of a layer's canvas, clipped to the map, in percent
 * of the canvas (reading no layout: this runs every frame).
 */
function overlay({ g, wrap }, kind, map, x, y, size) {
  const [ox, oy] = view.tileOrigin(g, map), box = el("div", { className: kind });
  const x0 = Math.max(0, x), y0 = Math.max(0, y), x1 = Math.min(g.cols, x + size), y1 = Math.min(g.rows, y + size);
  const pct = (v, of) => `${(100 * v) / of}%`;
  Object.assign(box.style, { left: pct(ox + x0, g.width), top: pct(oy + y0, g.height), width: pct(x1 - x0, g.width), height: pct(y1 - y0, g.height) });
  wrap.append(box);
}

// ---------------------------------------------------------------------------------------------
// Networks and weights: the trained files, or the worker's snapshots while it trains.

let choice = 0; // the latest network asked for: an earlier request that resolves later is dropped

/** Shows network `arch` with its trained weights (random ones, saying why, when its file does not load). */
async function useNetwork(arch) {
  const mine = ++choice;
  const model = await LeNet5.create({ arch, batchSize: 1 });
  model.activations(new Uint8Array(784)); // the first call compiles the kernels: not a stroke's time
  const file = NETWORKS[arch].file;
  let weights, source;
  try {
    const response = await fetch(file);
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const decoded = decodeModel(new Uint8Array(await response.arrayBuffer()), file);
    const accuracy = decoded.info.metrics?.test_accuracy;
    weights = decoded.weights;
    source = `Weights: ${file}, trained by the CLI` + (typeof accuracy === "number" ? ` (${(accuracy * 100).toFixed(2)}% on the MNIST test set).` : ".");
  } catch (err) {
    weights = model.getWeights();
    source = `Weights: random (seed 1): ${file} did not load (${err.message}).`;
  }
  if (mine !== choice) return;
  Object.assign(state, { arch, model, selected: null });
  buildLayers();
  setWeights(weights, source);
}

function setWeights(weights, source) {
  state.weights = weights;
  state.model.setWeights(weights);
  $("weights-source").textContent = source;
  drawFilters(weights["c1.weight"]);
  schedule();
}

$("arch").addEventListener("change", (e) => useNetwork(e.target.value));

// ---------------------------------------------------------------------------------------------
// Training in a worker.

let worker, files = [], paused = false, pausedInWorker = false;
const curve = { loss: [], accuracy: [], test: [] };

fileDrop($("drop"), $("files"), (list) => {
  files = list;
  $("picked").textContent = describeFiles(files);
});

/** The controls while training runs (or not): the settings stay as the run started. */
function setControls(running) {
  for (const id of ["start", "arch", "epochs", "seed", "files"]) $(id).disabled = running;
  $("pause").disabled = $("stop").disabled = !running;
  $("step").disabled = !running || !pausedInWorker; // once the worker has stopped between batches
  $("pause").textContent = paused ? "Resume" : "Pause";
  if (!running) $("save").disabled = worker === undefined;
}

async function start() {
  setControls(true); // at once: a second click must not start a second worker
  worker?.terminate();
  worker = undefined;
  paused = pausedInWorker = false;
  $("save").disabled = true; // until the worker has a model
  $("arch").value = state.arch; // trains the network shown
  choice++; // and drops a network change still loading
  curve.loss.length = curve.accuracy.length = curve.test.length = 0;
  $("train-status").textContent = "Loading the data…";
  document.body.dataset.training = "starting";
  const settings = { arch: state.arch, epochs: Number($("epochs").value), seed: Number($("seed").value) };
  state.run = settings;
  const picked = files.length ? await Promise.all(files.map(async (f) => ({ name: f.name, bytes: await f.arrayBuffer() }))) : undefined;
  worker = new Worker("explain-worker.js", { type: "module" });
  worker.onmessage = ({ data }) => handle[data.type](data);
  worker.onerror = (e) => handle.error({ message: e.message || "the training worker failed (the browser's console says why)" });
  const threads = crossOriginIsolated ? Math.min(navigator.hardwareConcurrency ?? 1, 8) : 1;
  worker.postMessage({ type: "start", ...settings, threads, files: picked }, picked?.map((f) => f.bytes) ?? []);
}

$("start").addEventListener("click", () => start());
$("pause").addEventListener("click", () => {
  paused = !paused;
  if (!paused) pausedInWorker = false;
  worker.postMessage({ type: paused ? "pause" : "resume" });
  setControls(true);
});
$("step").addEventListener("click", () => worker.postMessage({ type: "step" }));
$("stop").addEventListener("click", () => worker.postMessage({ type: "stop" }));
$("save").addEventListener("click", () => worker?.postMessage({ type: "save" }));

const handle = {
  info({ train, test, threads }) {
    $("save").disabled = false;
    $("mode").textContent = `${train.toLocaleString("en")} training images` + (test ? `, ${test.toLocaleString("en")} test images` : ", no test set (no confusion matrix)") +
      `. ${threads === 1 ? "One worker" : `${threads} workers sharing each batch`}` +
      (crossOriginIsolated ? "." : " (the page is not cross-origin isolated: one worker; the weights are the same either way).");
  },
  snapshot(s) {
    curve.loss.push(...s.losses);
    curve.accuracy.push(...s.accuracies);
    setWeights(s.weights, `Weights: training from random (seed ${state.run.seed}), epoch ${s.epoch}, batch ${s.batch}.`);
    const status = $("train-status");
    status.textContent = `Epoch ${s.epoch} of ${s.epochs}, batch ${s.batch.toLocaleString("en")} of ${s.batches.toLocaleString("en")}: ` +
      `loss ${s.loss.toFixed(4)}, accuracy ${(s.accuracy * 100).toFixed(2)}% (epoch so far)${s.paused ? ". Paused." : ""}`;
    Object.assign(status.dataset, { epoch: String(s.epoch), batch: String(s.batch), total: String(s.total), paused: String(s.paused) });
    document.body.dataset.training = s.paused ? "paused" : "running";
    if (s.paused) say(status.textContent); // pauses and steps are announced; the running count is not
    if (s.paused !== pausedInWorker && paused) {
      pausedInWorker = s.paused;
      setControls(true);
    }
    drawCurves();
  },
  confusion({ confusion, accuracy, total }) {
    curve.test.push([total, accuracy]);
    drawConfusion(confusion);
    drawCurves();
  },
  done({ stopped, seconds, imagesPerSecond }) {
    paused = pausedInWorker = false;
    setControls(false);
    // The worker's time includes what it does for the page between batches (snapshots, the confusion matrix).
    $("train-status").textContent = `${stopped ? "Stopped" : "Done"} after ${seconds.toFixed(1)} s of training (${Math.round(imagesPerSecond).toLocaleString("en")} images/s, with the page's snapshots).`;
    say($("train-status").textContent);
    document.body.dataset.training = "done";
  },
  model({ bytes }) {
    const a = el("a", { href: URL.createObjectURL(new Blob([bytes], { type: "application/octet-stream" })), download: `${state.run.arch}.safetensors` });
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
  },
  error({ message }) {
    worker?.terminate(); // whatever it was doing stops with the error
    paused = pausedInWorker = false;
    setControls(false);
    $("train-status").textContent = `Error: ${message}`;
    say($("train-status").textContent);
    document.body.dataset.training = "error";
    console.error(message);
  },
};

/** Loss and accuracy per batch (exponentially smoothed) and the test accuracy dots, on one canvas. */
function drawCurves() {
  const c = $("curves"), ctx = c.getContext("2d"), w = c.width, h = c.height, pad = 22;
  ctx.clearRect(0, 0, w, h);
  ctx.fillStyle = "#fafafa";
  ctx.fillRect(0, 0, w, h);
  const n = Math.max(curve.loss.length, 2), maxLoss = Math.max(...curve.loss.slice(0, 50), 0.5);
  const sx = (i) => pad + (i / (n - 1)) * (w - 2 * pad), sy = (t) => h - pad - t * (h - 2 * pad);
  const line = (values, scale, colour) => {
    ctx.strokeStyle = colour;
    ctx.lineWidth = 2;
    ctx.beginPath();
    let smooth;
    values.forEach((v, i) => {
      smooth = smooth === undefined ? v : 0.9 * smooth + 0.1 * v;
      const p = [sx(i), sy(Math.min(1, smooth / scale))];
      if (i === 0) ctx.moveTo(...p);
      else ctx.lineTo(...p);
    });
    ctx.stroke();
  };
  line(curve.loss, maxLoss, "#c0501a");
  line(curve.accuracy, 1, "#1a4fa0");
  ctx.fillStyle = "#1a4fa0";
  for (const [i, a] of curve.test) ctx.fillRect(sx(i) - 3, sy(a) - 3, 6, 6);
  ctx.fillStyle = "#222";
  ctx.font = "11px system-ui, sans-serif";
  ctx.fillText(`loss 0-${maxLoss.toFixed(2)}, accuracy 0-100%`, pad, 13);
  ctx.fillText(`${curve.loss.length.toLocaleString("en")} batches`, w - pad - 80, h - 6);
}

function drawFilters(weights) {
  const g = view.gridLayout("filters", [6, 5, 5], state.arch), c = $("filters");
  if (c.width !== g.width) Object.assign(c, { width: g.width, height: g.height });
  c.style.width = `${g.width * 14}px`;
  const range = Math.max(...Array.from(weights, Math.abs), 1e-6);
  c.getContext("2d").putImageData(new ImageData(view.paint(g, weights.map((v) => v / range), "lenet5"), g.width, g.height), 0, 0);
}

function drawConfusion(confusion) {
  const table = $("confusion");
  table.replaceChildren(el("tr", {}, el("th", { textContent: "" }), ...confusion.map((_, d) => el("th", { textContent: String(d), scope: "col" }))));
  confusion.forEach((row, label) => {
    const total = row.reduce((a, b) => a + b, 0) || 1;
    table.append(el("tr", {}, el("th", { textContent: String(label), scope: "row" }), ...row.map((count, predicted) => {
      const td = el("td", { textContent: count ? String(count) : "" });
      const share = count / total, right = label === predicted;
      // White text only on dark blue, dark text on the lighter cells (contrast of 4.5:1 or more either way).
      const alpha = right ? share : Math.min(0.6, 4 * share);
      td.style.background = `rgba(${right ? "26,79,160" : "192,80,26"},${alpha.toFixed(3)})`;
      td.style.color = right && alpha > 0.75 ? "#fff" : "#111";
      return td;
    })));
  });
}

// ---------------------------------------------------------------------------------------------
// Start: the pad, the sample digits, the article's network with its trained weights.

const pad = drawingPad($("pad"), (final) => schedule({ drawn: true, final }));
$("clear").addEventListener("click", () => pad.clear());
$("sample").addEventListener("click", () => {
  if (!state.samples) return;
  pad.clear();
  pad.show(state.samples.subarray(state.sample * 784, (state.sample + 1) * 784));
  state.sample = (state.sample + 1) % (state.samples.length / 784);
});
pad.clear();
try {
  state.samples = parseIdx(new Uint8Array(await (await fetch("samples-idx3-ubyte")).arrayBuffer()), { file: "samples-idx3-ubyte" }).data;
} catch (err) {
  $("sample").disabled = true;
  console.warn(`sample digits: ${err.message}`);
}
drawCurves();
try {
  await useNetwork("lenet5");
  document.body.dataset.ready = "true";
} catch (err) {
  $("weights-source").textContent = `The network could not start here: ${err.message}`;
  console.error(err);
}
