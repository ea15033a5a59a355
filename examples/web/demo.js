// Draw a digit: strokes on a canvas -> MNIST-style 28x28 (findDigit) -> LeNet-5 -> ten bars.
// Runs from the prebuilt bundle, no bundler, under `script-src 'self' 'wasm-unsafe-eval'`.
import { LeNet5, decodeModel, findDigit } from "./lenet-wasm/inference.js";

const pad = document.querySelector("#pad");
const ctx = pad.getContext("2d", { willReadFrequently: true });
const preview = document.querySelector("#preview").getContext("2d");
const prediction = document.querySelector("#prediction");
const status = document.querySelector("#status");
const LINE_WIDTH = 20; // ~2 px once the digit is scaled into MNIST's 20x20 box, like MNIST's pen

const bars = Array.from({ length: 10 }, (_, digit) => {
  const label = document.createElement("span"), bar = document.createElement("div"), fill = document.createElement("div"), value = document.createElement("span");
  label.textContent = String(digit);
  bar.className = "bar";
  bar.append(fill);
  document.querySelector("#bars").append(label, bar, value);
  return { bar, fill, value };
});

function clear() {
  ctx.fillStyle = "#fff"; // dark ink on white paper: findDigit inverts it to MNIST's white on black
  ctx.fillRect(0, 0, pad.width, pad.height);
  schedule();
}

let model;
let pending = false;
/** Classifies at most once per frame, however many pointer events arrive. */
function schedule() {
  if (!pending) requestAnimationFrame(update);
  pending = true;
}

function update() {
  pending = false;
  if (!model) return;
  // null: no digit on the pad (blank, or a speck): nothing to classify, and the page says so.
  const digit = findDigit(ctx.getImageData(0, 0, pad.width, pad.height));
  const blank = digit === null;
  const gray = new ImageData(28, 28);
  if (digit) digit.forEach((v, i) => gray.data.set([v, v, v, 255], 4 * i));
  else for (let i = 3; i < gray.data.length; i += 4) gray.data[i] = 255; // black: MNIST's background
  preview.putImageData(gray, 0, 0);
  const probs = blank ? new Float32Array(10) : model.predict(digit);
  const best = blank ? -1 : probs.indexOf(Math.max(...probs));
  prediction.textContent = blank ? "draw a digit" : String(best);
  bars.forEach(({ bar, fill, value }, d) => {
    fill.style.width = `${(probs[d] * 100).toFixed(1)}%`;
    value.textContent = blank ? "" : `${(probs[d] * 100).toFixed(1)}%`;
    bar.classList.toggle("best", d === best);
  });
}

// Pointer events: mouse, pen and touch alike.
let last;
const at = (e) => [(e.offsetX * pad.width) / pad.clientWidth, (e.offsetY * pad.height) / pad.clientHeight];
function stroke(from, to) {
  ctx.strokeStyle = "#000";
  ctx.lineWidth = LINE_WIDTH;
  ctx.lineCap = ctx.lineJoin = "round";
  ctx.beginPath();
  ctx.moveTo(...from);
  ctx.lineTo(...to);
  ctx.stroke();
  schedule();
}
pad.addEventListener("pointerdown", (e) => {
  pad.setPointerCapture(e.pointerId);
  last = at(e);
  stroke(last, last);
});
pad.addEventListener("pointermove", (e) => {
  if (!last) return;
  const p = at(e);
  stroke(last, p);
  last = p;
});
for (const type of ["pointerup", "pointercancel"]) pad.addEventListener(type, () => (last = undefined));
document.querySelector("#clear").addEventListener("click", clear);

clear();
try {
  const bytes = new Uint8Array(await (await fetch("lenet5.safetensors")).arrayBuffer());
  const { weights, info } = decodeModel(bytes, "lenet5.safetensors");
  model = await LeNet5.create({ batchSize: 1 });
  model.setWeights(weights);
  const accuracy = info.metrics?.test_accuracy;
  status.textContent = `Ready. Model: lenet5.safetensors${typeof accuracy === "number" ? `, ${(accuracy * 100).toFixed(2)}% on the MNIST test set` : ""}.`;
  document.body.dataset.ready = "true";
  schedule();
} catch (err) {
  status.textContent = `Could not load the model: ${err.message}`;
  console.error(err);
}
